// Which process holds a socket, as `ss -p` finds it: every /proc/<pid>/fd/* link to "socket:[<inode>]".
// /proc is the pid namespace's, not the network namespace's: processes of other network namespaces are
// listed too, and a socket's inode is unique on the machine, so entering a namespace loses nothing here.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface SocketOwner {
  readonly pid: number;
  readonly command: string;
  /** Open files of the process, and its soft RLIMIT_NOFILE ("Max open files"; null when unlimited or unread). */
  readonly fds: number;
  readonly fdLimit: number | null;
}

export interface SocketOwners {
  readonly byInode: ReadonlyMap<number, SocketOwner>;
  /** Processes whose fd directory this process may not read (EACCES without root or CAP_SYS_PTRACE). */
  readonly hidden: number;
}

function fdLimitOf(pid: number): number | null {
  try {
    const soft = /^Max open files\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))?.[1];
    return soft === undefined || soft === 'unlimited' ? null : Number(soft);
  } catch {
    return null;
  }
}

/** Owners of the wanted inodes; stops once every one is found. */
export function findSocketOwners(wanted: ReadonlySet<number>): SocketOwners {
  const byInode = new Map<number, SocketOwner>();
  let hidden = 0;
  if (wanted.size === 0) return { byInode, hidden };
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch (err) {
      // ENOENT: the process exited while we looked.
      if ((err as NodeJS.ErrnoException).code === 'EACCES') hidden++;
      continue;
    }
    let owner: SocketOwner | undefined;
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue; // closed meanwhile
      }
      if (!link.startsWith('socket:[')) continue;
      const inode = Number(link.slice(8, -1));
      if (!wanted.has(inode) || byInode.has(inode)) continue;
      owner ??= { pid, command: commandOf(pid), fds: fds.length, fdLimit: fdLimitOf(pid) };
      byInode.set(inode, owner);
    }
    if (byInode.size === wanted.size) break;
  }
  return { byInode, hidden };
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}
