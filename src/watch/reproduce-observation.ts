// What `doctor --reproduce` keeps of a host's two snapshots: only the values a lab needs to fail the same way,
// each parsed into its type (numbers, port ranges, IPv4 endpoints), never kept as the text the kernel gave.
// The scenario writer and the lab check read this, and nothing else of the host.
import { TIME_WAIT_SECONDS } from '../core/port-budget.ts';
import type { PortRange } from '../core/units.ts';
import { parsePortRange } from '../core/units.ts';
import { near } from './diagnosis.ts';
import type { DestinationView, Snapshot } from './snapshot.ts';

/** Destinations reproduced at most: each becomes a server host of the lab. */
export const MAX_REPRODUCED_DESTINATIONS = 3;
/** CLOSE_WAIT holders named at most. */
export const MAX_HOLDERS = 5;

export interface Ipv4Endpoint {
  readonly octets: readonly [number, number, number, number];
  readonly port: number;
}

/** The sysctls that decide the host's limits, each null where this kernel has none or it could not be read. */
export interface ObservedSysctls {
  readonly portRange: PortRange | null;
  readonly twReuse: number | null;
  readonly twReuseDelayMs: number | null;
  readonly timestamps: number | null;
  readonly finTimeoutSeconds: number | null;
  readonly maxTwBuckets: number | null;
  readonly rfc1337: number | null;
  readonly somaxconn: number | null;
}

/** A destination whose ports run out: this host closes first and its TIME_WAIT holds them. */
export interface ExhaustingDestination {
  readonly endpoint: Ipv4Endpoint;
  readonly ports: number;
  readonly timeWait: number;
  readonly established: number;
  readonly other: number;
  /** Net ports taken per second while doctor watched (null: not measured). */
  readonly portsPerSecond: number | null;
  /** New connections per second toward it, and what that figure was taken from. */
  readonly connectRate: number;
  readonly rateFrom: 'port-growth' | 'time-wait-steady';
  /** Doctor's prediction: when the budget runs out at the measured growth (null: not growing). */
  readonly exhaustionMs: number | null;
}

export interface CloseWaitHolder {
  readonly pid: number;
  readonly command: string;
  readonly closeWait: number;
}

export interface ObservedCloseWait {
  readonly count: number;
  readonly grew: number;
  readonly perSecond: number;
  /** Of `count`, those on connections this host opened (toward its listed destinations): it is their client. */
  readonly outgoing: number;
  readonly holders: readonly CloseWaitHolder[];
}

export interface ObservedListenOverflow {
  readonly overflowsPerSecond: number;
  readonly passiveOpensPerSecond: number;
}

export interface ObservedRates {
  readonly activeOpens: number;
  readonly passiveOpens: number;
  readonly timeWaitEntered: number;
  readonly timeWaitOverflows: number;
}

export interface ObservedHost {
  readonly host: string;
  /** When the second reading was taken (ISO 8601, UTC). */
  readonly at: string;
  readonly watchedMs: number;
  readonly sysctls: ObservedSysctls;
  /** ip_local_port_range less ip_local_reserved_ports: the ports connect() may pick toward one ip:port. */
  readonly portBudget: number | null;
  readonly rates: ObservedRates | null;
  readonly exhausting: readonly ExhaustingDestination[];
  readonly closeWait: ObservedCloseWait | null;
  readonly listenOverflow: ObservedListenOverflow | null;
}

const IPV4_ENDPOINT = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3}):(\d{1,5})$/;

/** "a.b.c.d:port" as the census formats it, checked octet by octet; undefined for anything else. */
export function parseIpv4Endpoint(text: string): Ipv4Endpoint | undefined {
  const m = IPV4_ENDPOINT.exec(text);
  if (!m) return undefined;
  const octets = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number];
  const port = Number(m[5]);
  if (octets.some((o) => o > 255) || port < 1 || port > 65535) return undefined;
  return { octets, port };
}

export function endpointText(e: Ipv4Endpoint): string {
  return `${e.octets.join('.')}:${e.port}`;
}

/** A sysctl read as text, as a whole number within bounds, or null. */
function sysctlInt(sysctls: Readonly<Record<string, string>>, name: string, max: number): number | null {
  const text = sysctls[name]?.trim();
  if (text === undefined || !/^\d{1,10}$/.test(text)) return null;
  const v = Number(text);
  return v <= max ? v : null;
}

export function observedSysctls(sysctls: Readonly<Record<string, string>>): ObservedSysctls {
  let portRange: PortRange | null = null;
  try {
    const text = sysctls['net.ipv4.ip_local_port_range'];
    if (text !== undefined) portRange = parsePortRange(text);
  } catch {
    portRange = null;
  }
  return {
    portRange,
    twReuse: sysctlInt(sysctls, 'net.ipv4.tcp_tw_reuse', 2),
    twReuseDelayMs: sysctlInt(sysctls, 'net.ipv4.tcp_tw_reuse_delay', 1_000_000),
    timestamps: sysctlInt(sysctls, 'net.ipv4.tcp_timestamps', 2),
    finTimeoutSeconds: sysctlInt(sysctls, 'net.ipv4.tcp_fin_timeout', 1_000_000),
    maxTwBuckets: sysctlInt(sysctls, 'net.ipv4.tcp_max_tw_buckets', 2 ** 31 - 1),
    rfc1337: sysctlInt(sysctls, 'net.ipv4.tcp_rfc1337', 1),
    somaxconn: sysctlInt(sysctls, 'net.core.somaxconn', 2 ** 31 - 1),
  };
}

/**
 * This host closes first toward d when TIME_WAIT holds most of its ports there (only the closer enters TIME_WAIT),
 * and the ports run out when doctor calls it near its limit.
 */
function exhaustingDestination(d: DestinationView): ExhaustingDestination | undefined {
  if (!near(d) || d.timeWait === 0 || d.timeWait < d.established + d.other) return undefined;
  const endpoint = parseIpv4Endpoint(d.destination);
  if (!endpoint) return undefined;
  // While TIME_WAIT is younger than 60 s, every new connection adds a port: the growth is the connect rate.
  // A count that no longer grows is a steady state, where TIME_WAIT = close rate x 60 s.
  const growing = d.portsPerSecond !== null && d.portsPerSecond > 0;
  const connectRate = growing ? d.portsPerSecond! : Math.round((d.timeWait / TIME_WAIT_SECONDS) * 10) / 10;
  if (!(connectRate > 0)) return undefined;
  return {
    endpoint,
    ports: d.ports,
    timeWait: d.timeWait,
    established: d.established,
    other: d.other,
    portsPerSecond: d.portsPerSecond,
    connectRate,
    rateFrom: growing ? 'port-growth' : 'time-wait-steady',
    exhaustionMs: d.exhaustionMs,
  };
}

function closeWaitOf(before: Snapshot, after: Snapshot, seconds: number): ObservedCloseWait | null {
  const count = after.states.CLOSE_WAIT;
  const grew = count - before.states.CLOSE_WAIT;
  // A steady or falling count is not a leak to reproduce: connections closing late, not never.
  if (grew <= 0 || !(seconds > 0)) return null;
  return {
    count,
    grew,
    perSecond: Math.round((grew / seconds) * 10) / 10,
    outgoing: after.destinations.reduce((s, d) => s + (d.closeWait ?? 0), 0),
    holders: after.holders
      .filter((h) => h.closeWait > 0)
      .slice(0, MAX_HOLDERS)
      .map((h) => ({ pid: h.pid, command: h.command, closeWait: h.closeWait })),
  };
}

/** before, after: doctor's two readings, watchedMs apart. */
export function observeHost(before: Snapshot, after: Snapshot, watchedMs: number): ObservedHost {
  const seconds = after.rates?.seconds ?? watchedMs / 1000;
  const r = after.rates;
  return {
    host: after.host,
    at: after.at,
    watchedMs,
    sysctls: observedSysctls(after.sysctls),
    portBudget: after.portBudget,
    rates: r
      ? {
          activeOpens: r.activeOpens,
          passiveOpens: r.passiveOpens,
          timeWaitEntered: r.timeWaitEntered,
          timeWaitOverflows: r.timeWaitOverflows,
        }
      : null,
    exhausting: after.destinations.flatMap((d) => exhaustingDestination(d) ?? []).slice(0, MAX_REPRODUCED_DESTINATIONS),
    closeWait: closeWaitOf(before, after, seconds),
    listenOverflow:
      r && r.listenOverflows > 0
        ? { overflowsPerSecond: r.listenOverflows, passiveOpensPerSecond: r.passiveOpens }
        : null,
  };
}

export function nothingToReproduce(o: ObservedHost): boolean {
  return o.exhausting.length === 0 && o.closeWait === null && o.listenOverflow === null;
}
