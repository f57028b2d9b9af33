// Each lab host gets a TCP hash table of its own (net.ipv4.tcp_child_ehash_entries, Linux 6.1+). Without one, every
// namespace shares the machine's established hash (262,144 buckets here), and a sock_diag dump walks all of it,
// every bucket and every socket of every namespace, to find the few of its own: an empty host's census cost 4.7 ms
// with nothing else on the machine and 16.8 ms beside 31,000 TIME_WAIT of another host, so a lab of 200 hosts
// sampled at 10 Hz could not keep up (a 4,096-bucket table of its own: 0.07 ms a dump). The sysctl is read from the namespace that creates the child, so it is set in
// the lab's own bridge namespace and the hosts are created from there; the machine's is never touched.
//
// The kernel sizes two defaults of a new namespace from its table (tcp_sk_init): tcp_max_tw_buckets = buckets / 2
// and tcp_max_syn_backlog = max(128, buckets / 128). A host with a table of its own is given the values a namespace
// sharing the machine's table gets (read from the bridge namespace, which shares it), so the kernel behaves as it
// would on the machine, unless the plan sets them. No other net sysctl of a new namespace depends on the table.
import { readFileSync } from 'node:fs';
import { findExecutable } from '../core/executable-lookup.ts';
import type { HostPlan } from '../core/plan.ts';
import { readSysctlsIn, writeSysctlIn } from './namespace-sysctls.ts';

/** The defaults a namespace sharing the machine's table gets, which a host with its own table would not. */
export const TABLE_SIZED_DEFAULTS = ['net.ipv4.tcp_max_tw_buckets', 'net.ipv4.tcp_max_syn_backlog'] as const;

const SMALLEST = 1024;
const LARGEST = 65536;
const PORT_RANGE = 'net.ipv4.ip_local_port_range';
/** A new namespace's ip_local_port_range, 32768-60999 (inet_init_net), whatever the machine's own is. */
const FRESH_PORTS = 60999 - 32768 + 1;

/** Whether this kernel gives a new namespace a table of its own (6.1+: tcp_child_ehash_entries exists). */
export function ownTablesSupported(exists = (path: string) => readable(path)): boolean {
  return exists('/proc/sys/net/ipv4/tcp_child_ehash_entries');
}

function readable(path: string): boolean {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
}

/** How many local ports an ip_local_port_range value holds ("32768 60999" holds 28,232). */
export function portRangeSize(range: string): number | undefined {
  const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(range);
  if (!m) return undefined;
  const [lo, hi] = [Number(m[1]), Number(m[2])];
  return hi >= lo ? hi - lo + 1 : undefined;
}

/**
 * Buckets for a host that may use `ports` local ports: a quarter as many, rounded up to a power of two as the kernel
 * rounds it, 1,024 to 65,536. A host's own connections toward one destination are bounded by its port range, so its
 * chains stay at four sockets or fewer however many it holds toward one peer (connect() probes the table for every
 * port it tries; every arriving segment looks its socket up there); a census walks every bucket (about 10 ns each
 * here) and the kernel zeroes the table when the namespace is made: 8,192 buckets (64 KiB) for a new namespace's
 * range, 1,024 for a range of up to 4,096 ports.
 */
export function hostTableSize(ports: number): number {
  let size = SMALLEST;
  while (size * 4 < ports && size < LARGEST) size *= 2;
  return size;
}

export interface HostTables {
  /** Buckets of each host's own table, by host name. */
  readonly buckets: Readonly<Record<string, number>>;
  /** The table-sized defaults a shared namespace has here, to be written into every host. */
  readonly defaults: Readonly<Record<string, string>>;
}

/**
 * Reads net sysctls of the bridge namespace (`write` undefined) or writes one, from this process through the addon
 * that opens files inside it. undefined where refused, or where the addon is not built (no C
 * compiler at install): the hosts then share the machine's table, as before Linux 6.1.
 */
function bridgeSysctls(
  bridgeNamespace: string,
  names: readonly string[],
  write?: string,
): Record<string, string> | undefined {
  try {
    if (write === undefined) return readSysctlsIn(bridgeNamespace, names);
    for (const name of names) writeSysctlIn(bridgeNamespace, name, write);
    return {};
  } catch {
    return undefined;
  }
}

/**
 * Each host's table size, and the defaults a shared namespace has (read in the bridge namespace, which shares the
 * machine's table). undefined where the kernel has no tables of their own (before 6.1), nsenter or the addon is not
 * here, or the bridge namespace refuses the sysctl: the hosts then share the machine's table.
 */
export function planHostTables(
  bridgeNamespace: string,
  hosts: Readonly<Record<string, HostPlan>>,
): HostTables | undefined {
  if (!ownTablesSupported() || !findExecutable('nsenter')) return undefined;
  const read = bridgeSysctls(bridgeNamespace, TABLE_SIZED_DEFAULTS);
  if (read === undefined) return undefined;
  const defaults = Object.fromEntries(TABLE_SIZED_DEFAULTS.map((name) => [name, read[name]?.trim() ?? '']));
  if (Object.values(defaults).some((value) => !/^\d+$/.test(value))) return undefined;
  const buckets: Record<string, number> = {};
  for (const [name, hp] of Object.entries(hosts)) {
    const planned = hp.sysctls[PORT_RANGE];
    buckets[name] = hostTableSize((planned === undefined ? undefined : portRangeSize(planned)) ?? FRESH_PORTS);
  }
  return { buckets, defaults };
}

/** Sets the bridge namespace's tcp_child_ehash_entries: the namespaces created from it next get tables this size. */
export function setChildTableSize(bridgeNamespace: string, buckets: number): boolean {
  const size = String(Math.trunc(buckets));
  return bridgeSysctls(bridgeNamespace, ['net.ipv4.tcp_child_ehash_entries'], size) !== undefined;
}

/** Hosts by the size of table they get, each size once. */
export function hostsByTableSize(buckets: Readonly<Record<string, number>>): Map<number, string[]> {
  const bySize = new Map<number, string[]>();
  for (const [host, size] of Object.entries(buckets)) {
    const hosts = bySize.get(size);
    if (hosts) hosts.push(host);
    else bySize.set(size, [host]);
  }
  return bySize;
}
