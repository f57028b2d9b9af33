// Each lab host gets a TCP hash table of its own (net.ipv4.tcp_child_ehash_entries, Linux 6.1+). Without one, every
// namespace shares the machine's established hash (262,144 buckets here), and a sock_diag dump walks all of it,
// every bucket and every socket of every namespace, to find the few of its own: an empty host's census cost 2.4 ms
// with nothing else on the machine and 16 ms beside 31,000 TIME_WAIT of another host, so a lab of 200 hosts
// sampled at 10 Hz could not keep up. The sysctl is read from the namespace that creates the child, so it is set in
// the lab's own bridge namespace and the hosts are created from there; the machine's is never touched.
//
// The kernel sizes two defaults of a new namespace from its table (tcp_sk_init): tcp_max_tw_buckets = buckets / 2
// and tcp_max_syn_backlog = max(128, buckets / 128). A host with a table of its own is given the values a namespace
// sharing the machine's table gets (read from the bridge namespace, which shares it), so the kernel behaves as it
// would on the machine, unless the plan sets them.
import { readFileSync } from 'node:fs';
import { run } from '../core/command.ts';

/** The defaults a namespace sharing the machine's table gets, which a host with its own table would not. */
export const TABLE_SIZED_DEFAULTS = ['net.ipv4.tcp_max_tw_buckets', 'net.ipv4.tcp_max_syn_backlog'] as const;

const SMALLEST = 1024;
const LARGEST = 65536;

/** The machine's established hash size (a namespace that shares it reads it negative), or undefined before 6.1. */
export function machineTableSize(read = (path: string) => readFileSync(path, 'latin1')): number | undefined {
  try {
    const n = Math.abs(Number(read('/proc/sys/net/ipv4/tcp_ehash_entries').trim()));
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Buckets per host: the machine's table shared out among the lab's hosts (a power of two, as the kernel rounds it),
 * so that the lab's tables together hold about as many buckets as the machine's one and a socket lookup walks
 * chains as long as it would there; at least 1,024, at most 65,536 (a census walks every bucket, 10 ns each here).
 */
export function hostTableSize(machine: number, hosts: number): number {
  const share = Math.floor(machine / Math.max(1, hosts));
  let size = SMALLEST;
  while (size * 2 <= share && size < LARGEST) size *= 2;
  return size;
}

export interface HostTables {
  /** Buckets of each host's own table. */
  readonly buckets: number;
  /** The table-sized defaults a shared namespace has here, to be written into every host. */
  readonly defaults: Readonly<Record<string, string>>;
}

/**
 * Sets the bridge namespace's tcp_child_ehash_entries and reads the defaults a shared namespace has. undefined
 * where the kernel has no such sysctl (before 6.1) or refuses it: the hosts then share the machine's table.
 */
export async function prepareHostTables(bridgeNamespace: string, hosts: number): Promise<HostTables | undefined> {
  const machine = machineTableSize();
  if (machine === undefined) return undefined;
  const buckets = hostTableSize(machine, hosts);
  // sysctl writes a name=value argument and reads a bare name, in one process inside the bridge namespace.
  const out = await run('ip', [
    'netns',
    'exec',
    bridgeNamespace,
    'sysctl',
    `net.ipv4.tcp_child_ehash_entries=${buckets}`,
    ...TABLE_SIZED_DEFAULTS,
  ]).catch(() => undefined);
  if (out === undefined) return undefined;
  const defaults: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^(net\.[a-z0-9_.]+) = (\d+)$/.exec(line.trim());
    if (m && (TABLE_SIZED_DEFAULTS as readonly string[]).includes(m[1]!)) defaults[m[1]!] = m[2]!;
  }
  return Object.keys(defaults).length === TABLE_SIZED_DEFAULTS.length ? { buckets, defaults } : undefined;
}
