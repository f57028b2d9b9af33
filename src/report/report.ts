// report.json, versioned. Renderers read only this.
import type { WaitlabErrorCode } from '../core/errors.ts';
import type { ActorKind } from '../actors/actor.ts';
import type { RegisteredActorKind } from '../actors/registry.ts';
import type { ValuesOf } from '../core/fields.ts';
import type { Comparison } from './comparison.ts';
import type { FindingClaims } from './claims/claim.ts';
import type { Plan, PlanProfile } from '../core/plan.ts';
import type { Counters } from '../sampler/kernel-counters.ts';
import type { TcpStateName } from '../sampler/tcp-states.ts';
import type { HostSeries } from '../recorder/recorder.ts';
import type { ThresholdResult } from '../core/thresholds.ts';
import type { PacketEvidence } from './packets/packet-evidence.ts';

/**
 * report.json's schema version, written as `schemaVersion` (the major) and `schemaMinor`. The policy: a field
 * added anywhere bumps the minor; a field removed, renamed or given another type or meaning bumps the major
 * (and the minor starts again at 0). A reader of major N reads every N.x, letting through the fields it does not
 * know; a report of another major is refused with both versions named. 1.0 had no schemaMinor; 1.1 counts the
 * fields added while the version stayed 1 (report-shape.ts reads them as optional: reports before them lack them).
 */
export const REPORT_SCHEMA_VERSION = { major: 1, minor: 1 } as const;

export type StateTable = Record<TcpStateName, number>;

export interface CensusReport {
  /** Where the censuses came from: 'netlink' (sock_diag), 'proc' (/proc/net/tcp), or both, netlink first, where a dump failed mid-run. */
  source: string;
  /** Why not netlink, where the census read /proc. */
  refused?: string;
  /** Censuses taken, and samples that went without one because the previous census was still running. */
  taken: number;
  skipped: number;
  /** Censuses per second over the sampled time. */
  perSecond: number;
  meanMs: number;
  maxMs: number;
}

export interface HostReport {
  /** Where the actors reached it: the plan's address, or the one the lab's network gave it (a cluster's CNI). */
  address: string;
  /** The plan's address, where the lab's network gave the host another. */
  plannedAddress?: string;
  /** Where the host lived: a namespace name. */
  location: string;
  /** As read back from the kernel inside the host. */
  sysctls: Record<string, string>;
  peak: {
    total: StateTable;
    listen: StateTable;
    ephemeral: StateTable;
    atMs: Partial<Record<TcpStateName, number>>;
    /** Each state's total peak split by role in the sample that reached it (parts add up); absent in reports made before it was recorded. */
    split?: Partial<Record<TcpStateName, { listen: number; ephemeral: number }>>;
    /** The kernel's own TIME_WAIT count (sockstat tw, timewait minisockets: orphaned FIN_WAIT_2 ones too), exact, at its highest sample. */
    sockstatTw: number;
    /** Per-peer peaks of each state: listening side by client ip, ephemeral side by server (upstream) ip:port. */
    peers: { listen: Record<string, Partial<StateTable>>; ephemeral: Record<string, Partial<StateTable>> };
  };
  /** States at the last sample, taken when the load had ended. */
  final: StateTable;
  series: HostSeries;
  samples: number;
  /** Ticks without any sample: not even the cheap counters (sockstat, TcpExt, Tcp) were read in time. */
  skippedTicks: number;
  /** How the socket census went; absent in reports made before it was recorded. */
  census?: CensusReport;
  /** Rows the census dropped as repeats of a 4-tuple within one table read (a socket that moved during the read); absent in older reports. */
  censusRepeats?: number;
  counters: { start: Counters; end: Counters; delta: Counters };
  /**
   * A forwarding host's connection tracking table (its counters are Conntrack.* among the others): its entries at
   * the highest sample and when, against nf_conntrack_max (one limit for the whole machine; absent where unreadable).
   */
  conntrack?: { entriesPeak: number; atMs: number; max?: number };
}

/**
 * One actor's entry: its kind, host and resolved options, and the stats its kind reports as the measurement ended
 * (before any actor closed, like the end counters; the last ones received where the run ended earlier, absent
 * where it reported none). A union keyed by `kind`.
 */
export type ActorReportOf<A> =
  A extends ActorKind<infer K, infer F, infer S, object>
    ? { kind: K; host: string; options: ValuesOf<F> } & Partial<S>
    : never;
export type ActorReport = ActorReportOf<RegisteredActorKind>;
export type ActorReportOfKind<K extends ActorReport['kind']> = Extract<ActorReport, { kind: K }>;

export interface ExhaustionPrediction {
  actor: string;
  host: string;
  /** Ports of ip_local_port_range, less ip_local_reserved_ports within it: one 4-tuple each toward one ip:port. */
  portBudget: number;
  portRange: string;
  /** connect() calls per second over the load, failures included (attempts / load duration); the first second's connections in reports before issue 21. */
  connectRate: number;
  /** The open model's planned rate beside it; null for a closed model; absent in older reports. */
  plannedRate?: number | null;
  /** Port budget / connect rate; null where the client's ports do not stay held (basis says why). */
  predictedMs: number | null;
  /** When connect() first failed with EADDRNOTAVAIL, after the flood's start; null if it never did. */
  measuredMs: number | null;
  ratio: number | null;
  /** What the prediction accounts for (close style, who closes, tcp_tw_reuse and its delay), or why it does not apply; absent in older reports. */
  basis?: string;
}

export interface TimeWaitPrediction {
  actor: string;
  /** The host expected to hold TIME_WAIT: the one told to close first. */
  host: string;
  /** The end expected to hold TIME_WAIT; 'none' where no end closes with a FIN answered by a FIN. */
  closer: 'client' | 'server' | 'none';
  /** Expected peak (see basis); null where it does not apply. */
  predicted: number | null;
  /** The per-peer census peak of that host toward (or from) the other end, capped by sockstat tw and the port budget. */
  measured: number;
  ratio: number | null;
  /** Client closer: measured peak / port budget. */
  ofPortBudget: number | null;
  /** Where the measured count was read: "client>ip:port" or "server<source address"; absent in older reports. */
  measuredOn?: string;
  /** Other floods whose TIME_WAIT is counted in the same place: ratio is then measured / predictedTogether. */
  sharedWith?: string[];
  predictedTogether?: number;
  /** The options and sysctls the prediction accounts for (closeStyle, closer, tcp_tw_reuse and its delay, tcp_max_tw_buckets), or why it does not apply; absent in older reports. */
  basis?: string;
}

/** Under tcp_tw_reuse: the most new connections per second the client's ports sustain, and what the load got. */
export interface SustainableRatePrediction {
  actor: string;
  host: string;
  /** Ports connect() may use: ip_local_port_range less ip_local_reserved_ports. */
  usablePorts: number;
  /** net.ipv4.tcp_tw_reuse_delay: how old a TIME_WAIT entry must be before connect() may take it over. */
  delayMs: number;
  /** usablePorts / delay, per second. */
  predicted: number;
  /** connect() calls per second over the load. */
  offered: number;
  /** Connections made per second over the load, where the offered rate exceeded the prediction; else null. */
  measured: number | null;
  ratio: number | null;
  basis: string;
}

/** A kept-alive pool behind a NAT gateway with a port range: how many of its connections the translated ports let through (report/nat-prediction.ts). */
export interface NatPortsPrediction {
  actor: string;
  gateway: string;
  /** The server's ip:port the connections go to. */
  destination: string;
  /** Ports of the masquerade's range: one per open connection toward the destination. */
  translatedPorts: number;
  /** Kept-alive connections the pools behind the gateway hold open to the destination, together. */
  pooled: number;
  /** min(pooled, translatedPorts). */
  predictedHeld: number;
  /** The server's ESTABLISHED from the gateway's masquerade address, at their peak. */
  measuredHeld: number;
  ratio: number | null;
  basis: string;
}

/** Floods behind a masquerade whose clients share one source port range: the SYNs that find their port held (report/nat-race-prediction.ts). */
export interface NatRacePrediction {
  actor: string;
  gateway: string;
  /** The server's ip:port the connections go to. */
  destination: string;
  /** Connections the floods keep going at once toward the destination, together (their concurrency). */
  atOnce: number;
  /** Ports of the clients' common ip_local_port_range: the source ports every one of them draws from. */
  sharedSourcePorts: number;
  /** Ports the masquerade translates into: its range, or 64,512 (1024-65535) without one. */
  translatedPorts: number;
  randomFully: boolean;
  /** Share of the SYNs predicted to find their own source port held and be translated: 1 - sharedSourcePorts / atOnce; 0 with fully-random. */
  predictedShare: number;
  /** The gateway's Conntrack.found: NAT lookups that found a tuple already taken. */
  found: number;
  /** Connections the floods made. */
  connections: number;
  /** found / connections. */
  measuredShare: number | null;
  ratio: number | null;
  basis: string;
}

/** connect() slows once the half of the range it scans first is held: where that happens. */
export interface ParityCliffPrediction {
  actor: string;
  host: string;
  /** Ports of the range with its low end's parity: connections after which every connect() scans them all. */
  halfPorts: number;
  /** halfPorts / connect() rate. */
  predictedAtMs: number;
  /** New connections per second once every connect() scans the held half: 1 s / (halfPorts x the cost of a port). */
  slowedRate: number;
  /** Connections the run made. */
  connected: number;
  /** The run made more connections than the half. */
  crossed: boolean;
  basis: string;
}

/**
 * A keep-alive pool that keeps fewer idle connections than the requests it is given at once (report/pool-churn.ts):
 * the new connections it opens per request, and the TIME_WAIT its closes leave on its host.
 */
export interface PoolChurnPrediction {
  /** The pool's owner: a proxy toward its upstream, or a client. */
  actor: string;
  host: string;
  /** The destination of the pooled connections (ip:port). */
  destination: string;
  /** Idle connections the pool keeps (nginx `keepalive N` x workers, http.Agent maxFreeSockets). */
  idleKept: number;
  /** Requests in flight at once: the bursts of the load (or loads) through the pool, or a closed load's concurrency. */
  concurrency: number;
  /** waves: each burst's requests all in flight together, the prediction is exact; bound: a closed load, whose requests come and go apart, so it is at most. */
  arrivals: 'waves' | 'bound';
  /** Requests the pool carried: the responses of the load (or loads) through it. */
  requests: number;
  /** The first wave's connections, then (concurrency - idleKept) for each further wave. */
  predictedConnections: number;
  /** Tcp.ActiveOpens of the owner's host; null where another actor of that host connects out too. */
  measuredConnections: number | null;
  predictedPerRequest: number;
  measuredPerRequest: number | null;
  /** measuredPerRequest / predictedPerRequest. */
  ratio: number | null;
  /** Connections closed beyond the pool, each a TIME_WAIT on the owner's host where it closes first with a FIN; null where no TIME_WAIT is expected there. */
  predictedTimeWait: number | null;
  /** The census peak of TIME_WAIT on the owner's host toward the destination, capped by sockstat tw. */
  measuredTimeWait: number;
  basis: string;
}

/** A scaled host's replicas added up (report/replicas.ts). */
export interface ReplicaTotals {
  /** The replicas' host names, replica 1 (the scenario's own name) first. */
  hosts: string[];
  /** Each replica's peak TIME_WAIT, in the order of hosts. */
  timeWaitPeaks: number[];
  /** The largest of timeWaitPeaks: the worst replica, for a threshold on the fleet (absent in reports before it). */
  timeWaitPeakMax?: number;
  /** Each of the host's actors: its copies, and the sums of their counts. */
  actors: Record<
    string,
    {
      replicas: string[];
      attempts: number;
      connected: number;
      ok: number;
      missedStarts: number;
      errors: Record<string, number>;
      /** How many replicas met each error code at least once (absent in reports before it). */
      replicasWithErrors?: Record<string, number>;
    }
  >;
}

/** One host's packet capture (--capture): the file in the run's directory, and what its packets show. */
export interface CaptureReport {
  host: string;
  /** <host>.pcap, in the run's directory. */
  file: string;
  bytes: number;
  packets: number;
  /** Bytes kept of each packet (tcpdump -s). */
  snaplen: number;
  /** The pcap reached its size cap (--capture-max): packets after that were not kept. */
  truncated: boolean;
  /** Packets the kernel dropped before tcpdump read them, as tcpdump counted at its exit; absent where it did not say. */
  droppedByKernel?: number;
  /** Per peer, who sent the first FIN; writes after the peer's FIN answered by RST; each with frames. */
  evidence?: PacketEvidence;
  /** Why the file could not be read, where it could not. */
  problem?: string;
}

export interface Report {
  schemaVersion: typeof REPORT_SCHEMA_VERSION.major;
  /** Absent in reports of 1.0 (written before the minor was). */
  schemaMinor?: number;
  scenario: { name: string; description: string; file: string; plan: Plan };
  /** The sysctl profile the run applied (name, source, each sysctl it set beside the scenario's value); null: none. */
  profile: PlanProfile | null;
  environment: {
    /** The waitlab version (package.json) that made the report; absent in reports made before it was recorded. */
    waitlab?: string;
    kernel: string;
    node: string;
    driver: string;
    privilege: string;
    lab: string;
    /** The tools that built the lab, with versions (a container engine, a compose tool, the image), where the driver names them. */
    labTools?: string[];
    /** What the driver could not control as the plan asked, in words (a runtime's limit, the machine's netfilter). */
    uncontrolled?: string[];
  };
  startedAt: string;
  durationMs: number;
  /** How samples were taken; absent in reports made before it was recorded. */
  sampling?: {
    intervalMs: number;
    /** A sample's t is when its last read returned ('reads-ended'): it holds nothing that happened after t. */
    stamp: 'reads-ended';
    /** What the census counts: one socket per 4-tuple of /proc/net/tcp and tcp6, roles from the host's server ports. */
    census: string;
  };
  hosts: Record<string, HostReport>;
  actors: Record<string, ActorReport>;
  /** Scaled hosts (--scale), by the scenario's host name: each replica is also in hosts and actors under its own name. */
  replicas?: Record<string, ReplicaTotals>;
  predictions: Record<
    string,
    {
      exhaustion?: ExhaustionPrediction;
      timeWait?: TimeWaitPrediction;
      sustainableRate?: SustainableRatePrediction;
      parityCliff?: ParityCliffPrediction;
      natPorts?: NatPortsPrediction;
      natRace?: NatRacePrediction;
      poolChurn?: PoolChurnPrediction;
    }
  >;
  thresholds: ThresholdResult[];
  findings: string[];
  /** The typed claims of the findings whose rules make them (findings[finding] is the text); absent in reports made before claims. */
  claims?: FindingClaims[];
  verdict: 'pass' | 'fail' | 'interrupted' | 'error';
  /** Packet captures (--capture), one per host named; absent without. */
  captures?: CaptureReport[];
  /** Present when the run was compared with a baseline (--baseline): every compared metric and the verdict. */
  comparison?: Comparison;
  /** What ended the run early: its message, and its stable code (core/errors.ts). */
  error?: string;
  errorCode?: WaitlabErrorCode;
}

type KeysOfUnion<T> = T extends unknown ? keyof T : never;
type ValueIn<T, K extends PropertyKey> = T extends unknown ? (K extends keyof T ? T[K] : undefined) : never;

/** A stat of an actor's entry, for whichever kinds report it: typed by the union, undefined for the others. */
export function stat<K extends KeysOfUnion<ActorReport>>(
  entry: ActorReport | undefined,
  key: K,
): ValueIn<ActorReport, K> | undefined {
  return entry && key in entry ? (entry as unknown as Record<K, ValueIn<ActorReport, K>>)[key] : undefined;
}
