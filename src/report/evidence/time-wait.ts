// A host's TIME_WAIT as findings may state it: the census peak, never above the kernel's own count, and its
// split by role with parts that add up to it.
import type { HostReport } from '../report.ts';

export interface TimeWaitCount {
  /** The census peak capped by sockstat tw: the number a sentence may print. */
  peak: number;
  /** The /proc/net/tcp census's peak, as recorded. */
  census: number;
  /** The kernel's own count at its highest sample (sockstat tw): exact, orphaned FIN_WAIT_2 minisockets included. */
  sockstat: number;
  /** `peak` by role, adding up to it; absent where the report cannot tell. */
  split?: { listen: number; ephemeral: number; from: 'direction' | 'census' };
}

/**
 * Connections the host's kernel saw it close first, as counted when each reached tcp_time_wait(): a timewait
 * entry (TcpExt.TW for a timer above 4 s, TcpExt.TWKilled for 4 s or less: TIME_WAIT, or FIN_WAIT_2 as an
 * orphan), or none because tcp_max_tw_buckets was full (TcpExt.TCPTimeWaitOverflow).
 */
export function firstCloses(host: HostReport): number {
  const d = host.counters.delta;
  return (d['TcpExt.TW'] ?? 0) + (d['TcpExt.TWKilled'] ?? 0) + (d['TcpExt.TCPTimeWaitOverflow'] ?? 0);
}

export function timeWaitCount(host: HostReport): TimeWaitCount {
  const census = host.peak.total.TIME_WAIT;
  const sockstat = host.peak.sockstatTw;
  // sockstat tw counts every timewait minisocket of the namespace, so no census can exceed it; one that does
  // counted a socket twice (reports before the census kept one row per 4-tuple).
  const peak = host.samples > 0 ? Math.min(census, sockstat) : census;
  return { peak, census, sockstat, split: split(host, peak) };
}

function split(host: HostReport, peak: number): TimeWaitCount['split'] {
  const active = host.counters.delta['Tcp.ActiveOpens'] ?? 0;
  const passive = host.counters.delta['Tcp.PassiveOpens'] ?? 0;
  // The connection's direction, from the kernel: a host that only accepted holds its TIME_WAIT on its server
  // ports, one that only connected on its own ports, whatever a port's state was at one read.
  if (active === 0 && passive > 0) return { listen: peak, ephemeral: 0, from: 'direction' };
  if (passive === 0 && active > 0) return { listen: 0, ephemeral: peak, from: 'direction' };
  const atPeak = host.peak.split?.TIME_WAIT;
  if (!atPeak) return undefined;
  // A census above sockstat gives up its excess from its larger part.
  let { listen, ephemeral } = atPeak;
  const excess = listen + ephemeral - peak;
  if (excess > 0) {
    if (listen >= ephemeral) listen -= excess;
    else ephemeral -= excess;
  }
  return { listen: Math.max(0, listen), ephemeral: Math.max(0, ephemeral), from: 'census' };
}

/** A per-peer census count of TIME_WAIT, never above the host's own capped peak, nor (given) a port range. */
export function capPeer(count: number, host: HostReport, ports?: number): number {
  return Math.min(count, timeWaitCount(host).peak, ports ?? Infinity);
}
