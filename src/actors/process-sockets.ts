// The TCP sockets a process holds, by state: its fds that are sockets (/proc/<pid>/fd -> "socket:[inode]", what
// `ss -p` reads) matched by inode against this namespace's /proc/net/tcp{,6}. TIME_WAIT sockets have no fd and
// are never counted here; a CLOSE_WAIT one is held by exactly the process that never closed it.
import { readdirSync, readlinkSync } from 'node:fs';
import { scanOwnTcpTables } from '../sampler/proc-net-tcp.ts';
import { stateName, type StateCounts } from '../sampler/tcp-states.ts';

function socketInodes(pid: number): Set<number> {
  const inodes = new Set<number>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes; // ENOENT: it has exited
  }
  for (const fd of fds) {
    try {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (link.startsWith('socket:[')) inodes.add(Number(link.slice(8, -1)));
    } catch {
      // closed while we looked
    }
  }
  return inodes;
}

/** The states of the TCP sockets `pid` holds open in this network namespace. */
export function socketsHeldBy(pid: number): StateCounts {
  const inodes = socketInodes(pid);
  const counts: StateCounts = {};
  if (inodes.size === 0) return counts;
  scanOwnTcpTables((row) => {
    if (!inodes.has(row.inode)) return;
    const state = stateName(row.state);
    if (state) counts[state] = (counts[state] ?? 0) + 1;
  });
  return counts;
}
