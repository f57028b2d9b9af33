// Removing many network namespaces at once: every process still inside any of them is found in one pass over
// /proc (what `ip netns pids` does for one name) and killed, then one `ip -force -batch` deletes them all.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { failedLine, ipBatchForced } from './ip-batch.ts';

const NETNS_DIR = '/run/netns';

/** The inode of a named namespace: /run/netns/<name> is a bind mount of its nsfs file. */
function namespaceInode(name: string): bigint | undefined {
  try {
    return statSync(join(NETNS_DIR, name), { bigint: true }).ino;
  } catch {
    return undefined;
  }
}

/** Pids whose network namespace is one of `inodes` (/proc/<pid>/ns/net stats to the namespace's nsfs inode). */
export function pidsInNamespaces(inodes: ReadonlySet<bigint>): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (inodes.has(statSync(`/proc/${entry}/ns/net`, { bigint: true }).ino)) pids.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to see
    }
  }
  return pids;
}

/**
 * Kills every process left in the named namespaces, then deletes them all in one `ip` process (their veths and
 * sockets go with them). Resolves with a sentence for each namespace that is still there afterwards.
 */
export async function removeNamespaces(names: readonly string[]): Promise<string[]> {
  const present = names.filter((n) => namespaceInode(n) !== undefined);
  const inodes = new Set(present.map(namespaceInode).filter((i): i is bigint => i !== undefined));
  for (const pid of pidsInNamespaces(inodes)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const stderr = await ipBatchForced(present.map((n) => ['netns', 'del', n]));
  const left = present.filter((n) => existsSync(join(NETNS_DIR, n)));
  if (left.length === 0) return [];
  // ip prints each failed command's message, then "Command failed -:N": pair them back with their namespace.
  const messages = new Map<string, string>();
  let pending: string[] = [];
  for (const line of stderr.split('\n')) {
    const n = failedLine(line);
    if (n === undefined) {
      if (line.trim()) pending.push(line.trim());
      continue;
    }
    const name = present[n - 1];
    if (name !== undefined) messages.set(name, pending.join(' '));
    pending = [];
  }
  return left.map((n) => `ip netns del ${n}: ${messages.get(n) || 'still present'}`);
}
