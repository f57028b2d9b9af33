// report.json's shape, checked against report.ts by the compiler (core/shape.ts: objectOf), so that a report
// read from disk is a Report before anything renders it. Actor entries are a union keyed by kind: their shape
// names every stat any kind reports, each optional, and the compiler checks that every kind's entry fits it.
import { WAITLAB_ERROR_CODES } from '../core/errors.ts';
import {
  array,
  boolean,
  json,
  literal,
  nullable,
  number,
  object,
  objectOf,
  oneOf,
  optional,
  record,
  string,
  type Shape,
} from '../core/shape.ts';
import { CLAIM_NAMES, CLAIM_UNITS, type Claim, type EvidenceRef, type FindingClaims } from './claims/claim.ts';
import type { ThresholdResult } from '../core/thresholds.ts';
import { TCP_STATES, type TcpStateName } from '../sampler/tcp-states.ts';
import type { ErrorCount } from '../actors/error-tally.ts';
import type { Comparison, MetricComparison, RunIdentity } from './comparison.ts';
import { PLAN_PROFILE_SHAPE, PLAN_SHAPE, planOf, type StoredPlan } from './plan-shape.ts';
import type { FrameRef, LateWrite, PacketEvidence, PeerCloses } from './packets/packet-evidence.ts';
import {
  REPORT_SCHEMA_VERSION,
  type ActorReport,
  type CaptureReport,
  type CensusReport,
  type ExhaustionPrediction,
  type HostReport,
  type NatPortsPrediction,
  type NatRacePrediction,
  type ParityCliffPrediction,
  type PoolChurnPrediction,
  type Report,
  type ReplicaTotals,
  type SustainableRatePrediction,
  type TimeWaitPrediction,
} from './report.ts';

/** Every TCP state, each a number: what a report's peak and final tables hold (allStates). */
const stateTable = object(
  Object.fromEntries(TCP_STATES.map((s) => [s, number()])) as Record<TcpStateName, Shape<number>>,
);
const someStates = <T>(value: Shape<T>) =>
  object(
    Object.fromEntries(TCP_STATES.map((s) => [s, optional(value)])) as Record<
      TcpStateName,
      ReturnType<typeof optional<T>>
    >,
  );

const census = objectOf<CensusReport>()({
  source: string(),
  refused: optional(string()),
  taken: number(),
  skipped: number(),
  perSecond: number(),
  meanMs: number(),
  maxMs: number(),
});
const counters = record(number());

const state = literal(...TCP_STATES);
const role = literal('listen', 'ephemeral');
type Ref<K extends EvidenceRef['from']> = Extract<EvidenceRef, { from: K }>;
const refs = [
  objectOf<Ref<'counter'>>()({ from: literal('counter'), host: string(), counter: string() }),
  objectOf<Ref<'peer-peak'>>()({ from: literal('peer-peak'), host: string(), role, peer: string(), state }),
  objectOf<Ref<'host-peak'>>()({ from: literal('host-peak'), host: string(), state }),
  objectOf<Ref<'sockstat-tw'>>()({ from: literal('sockstat-tw'), host: string() }),
  objectOf<Ref<'actor-stat'>>()({
    from: literal('actor-stat'),
    actor: string(),
    stat: string(),
    key: optional(array(string())),
  }),
  objectOf<Ref<'port-budget'>>()({ from: literal('port-budget'), host: string(), ports: number() }),
  objectOf<Ref<'host-final'>>()({ from: literal('host-final'), host: string(), state }),
  objectOf<Ref<'split-peak'>>()({ from: literal('split-peak'), host: string(), role, state }),
  objectOf<Ref<'peak-time'>>()({ from: literal('peak-time'), host: string(), state }),
  objectOf<Ref<'last-sample'>>()({ from: literal('last-sample'), host: string() }),
  objectOf<Ref<'series-at'>>()({
    from: literal('series-at'),
    host: string(),
    state,
    at: literal('load-start', 'load-end'),
  }),
  objectOf<Ref<'load-window'>>()({ from: literal('load-window'), edge: literal('start', 'end', 'length') }),
  objectOf<Ref<'sysctl'>>()({ from: literal('sysctl'), host: string(), name: string() }),
  objectOf<Ref<'prediction'>>()({ from: literal('prediction'), actor: string(), kind: string(), field: string() }),
  objectOf<Ref<'model'>>()({
    from: literal('model'),
    actor: string(),
    field: literal('backlog', 'acceptAfterMs', 'ratePerSec', 'count', 'nofile', 'pool'),
  }),
  objectOf<Ref<'host-limit'>>()({ from: literal('host-limit'), host: string(), limit: literal('nofile') }),
  objectOf<Ref<'conntrack-peak'>>()({ from: literal('conntrack-peak'), host: string() }),
  objectOf<Ref<'capture-frames'>>()({
    from: literal('capture-frames'),
    host: string(),
    count: literal('connections', 'localFirst', 'peerFirst', 'both', 'lateWrites', 'lateWritesReset'),
    peer: optional(string()),
  }),
] as Shape<EvidenceRef>[];
const evidenceRef: Shape<EvidenceRef> = refs.reduce((a, b) => oneOf(a, b));
const claim = objectOf<Claim>()({
  name: literal(...CLAIM_NAMES),
  value: number(),
  unit: literal(...CLAIM_UNITS),
  bound: literal('exact', 'at-least'),
  derive: literal('sum', 'ratio', 'per'),
  plus: array(evidenceRef),
  minus: optional(array(evidenceRef)),
  cap: optional(array(evidenceRef)),
  over: optional(array(evidenceRef)),
  times: optional(array(evidenceRef)),
  scale: optional(number()),
  peers: optional(array(string())),
  of: optional(string()),
  end: optional(literal('client', 'server')),
});
const findingClaims = objectOf<FindingClaims>()({
  finding: number(),
  rule: string(),
  host: string(),
  peers: array(string()),
  claims: array(claim),
});

const frameRef = objectOf<FrameRef>()({ frame: number(), atMs: number() });
const peerCloses = objectOf<PeerCloses>()({
  connections: number(),
  asClient: number(),
  asServer: number(),
  withoutSyn: number(),
  localFirst: number(),
  peerFirst: number(),
  both: number(),
  noFin: number(),
  reset: number(),
  firstFins: array(
    objectOf<PeerCloses['firstFins'][number]>()({
      frame: number(),
      atMs: number(),
      by: literal('local', 'peer', 'both'),
    }),
  ),
});
const lateWrite = objectOf<LateWrite>()({
  frame: number(),
  atMs: number(),
  from: string(),
  to: string(),
  bytes: number(),
  request: optional(string()),
  fin: frameRef,
  afterFinReceived: boolean(),
  rst: optional(frameRef),
});
const captureReport = objectOf<CaptureReport>()({
  host: string(),
  file: string(),
  bytes: number(),
  packets: number(),
  snaplen: number(),
  truncated: boolean(),
  droppedByKernel: optional(number()),
  evidence: optional(
    objectOf<PacketEvidence>()({
      frames: number(),
      tcpFrames: number(),
      forwarded: number(),
      byPeer: record(peerCloses),
      lateWrites: objectOf<PacketEvidence['lateWrites']>()({
        count: number(),
        answeredByRst: number(),
        afterFinReceived: number(),
        examples: array(lateWrite),
      }),
    }),
  ),
  problem: optional(string()),
});

const hostReport = objectOf<HostReport>()({
  address: string(),
  plannedAddress: optional(string()),
  location: string(),
  sysctls: record(string()),
  peak: objectOf<HostReport['peak']>()({
    total: stateTable,
    listen: stateTable,
    ephemeral: stateTable,
    atMs: someStates(number()),
    split: optional(
      someStates(objectOf<{ listen: number; ephemeral: number }>()({ listen: number(), ephemeral: number() })),
    ),
    sockstatTw: number(),
    peers: objectOf<HostReport['peak']['peers']>()({
      listen: record(someStates(number())),
      ephemeral: record(someStates(number())),
    }),
  }),
  final: stateTable,
  series: objectOf<HostReport['series']>()({ t: array(number()), states: someStates(array(number())) }),
  samples: number(),
  skippedTicks: number(),
  census: optional(census),
  censusRepeats: optional(number()),
  counters: objectOf<HostReport['counters']>()({ start: counters, end: counters, delta: counters }),
  conntrack: optional(
    objectOf<NonNullable<HostReport['conntrack']>>()({
      entriesPeak: number(),
      atMs: number(),
      max: optional(number()),
    }),
  ),
});

type KeysOfUnion<T> = T extends unknown ? keyof T : never;
type ValueIn<T, K extends PropertyKey> = T extends unknown ? (K extends keyof T ? T[K] : never) : never;
/** An actor's entry as any kind may hold it: kind, host and options, and every kind's stats, each optional. */
type AnyActorEntry = { kind: ActorReport['kind']; host: string; options: Record<string, unknown> } & {
  [K in Exclude<KeysOfUnion<ActorReport>, 'kind' | 'host' | 'options'>]?: ValueIn<ActorReport, K>;
};

const counts = record(number());
const errorCount = objectOf<ErrorCount>()({ count: number(), syscalls: counts, firstAtMs: number() });
const latency = object({
  p50: nullable(number()),
  p90: nullable(number()),
  p99: nullable(number()),
  max: nullable(number()),
  mean: nullable(number()),
  count: optional(number()),
});
const optionalNumber = () => optional(number());

const actorReport = objectOf<AnyActorEntry>()({
  kind: literal('http-server', 'listener', 'short-conn-client', 'proxy', 'keepalive-client', 'http-client', 'process'),
  host: string(),
  options: record(json()),
  engine: optional(literal('node', 'nginx', 'haproxy', 'builtin')),
  workers: optionalNumber(),
  port: optionalNumber(),
  backlog: optionalNumber(),
  version: optional(string()),
  processModel: optional(string()),
  exitedEarly: optional(nullable(string())),
  config: optional(string()),
  configSource: optional(string()),
  reuseAddr: optional(boolean()),
  open: optionalNumber(),
  closed: optionalNumber(),
  target: optional(string()),
  model: optional(string()),
  upstreams: optional(array(string())),
  mode: optional(literal('http', 'tcp')),
  upstreamKeepAlive: optionalNumber(),
  errorLog: optional(
    object({
      lines: number(),
      causes: object({
        portsExhausted: number(),
        addressInUse: number(),
        noLiveUpstreams: number(),
        upstreamRefused: number(),
        upstreamTimeout: number(),
        upstreamReset: number(),
        upstreamClosedEarly: number(),
        workerConnections: optionalNumber(),
        other: number(),
      }),
      errno: counts,
      levels: counts,
      kinds: counts,
      first: nullable(object({ line: string(), atMs: number() })),
    }),
  ),
  hostActiveOpens: optional(nullable(number())),
  connections: optionalNumber(),
  targetRate: optional(nullable(number())),
  startedAtMs: optionalNumber(),
  durationMs: optionalNumber(),
  attempts: optionalNumber(),
  responses: optionalNumber(),
  ok: optionalNumber(),
  missedStarts: optionalNumber(),
  errors: optional(record(errorCount)),
  errorCount: optionalNumber(),
  firstError: optional(
    nullable(object({ code: string(), syscall: nullable(string()), atMs: number(), afterStartMs: optionalNumber() })),
  ),
  achievedRate: optionalNumber(),
  latencyMs: optional(nullable(latency)),
  accepted: optionalNumber(),
  requests: optionalNumber(),
  serverClosedFirst: optionalNumber(),
  peerClosedFirst: optionalNumber(),
  resetsSent: optionalNumber(),
  leaked: optionalNumber(),
  closedUnread: optionalNumber(),
  replied: optionalNumber(),
  listens: optionalNumber(),
  maxOpen: optionalNumber(),
  firstBatch: optional(nullable(number())),
  maxBatch: optionalNumber(),
  queuedAtResume: optional(nullable(number())),
  restart: optional(
    object({
      state: literal('not-asked', 'waiting', 'restarting', 'listening', 'failed'),
      tries: number(),
      atMs: nullable(number()),
      portStates: optional(counts),
    }),
  ),
  limits: optional(object({ nofile: object({ soft: number(), hard: number() }) })),
  connected: optionalNumber(),
  inFlight: optionalNumber(),
  held: optionalNumber(),
  peerClosed: optionalNumber(),
  lateWrites: optionalNumber(),
  cutAtLoadEnd: optionalNumber(),
  resetOnGiveUp: optionalNumber(),
  statuses: optional(counts),
  connectedBeforeFirstError: optionalNumber(),
  // The http-client actor (actors/http-client.ts).
  newConnections: optionalNumber(),
  requestsOnReused: optionalNumber(),
  errorsOnReused: optional(record(errorCount)),
  errorsOnReusedCount: optionalNumber(),
  idleCloses: optionalNumber(),
  connectRate: optionalNumber(),
  connectRateWindowMs: optionalNumber(),
  terminations: optional(counts),
  stderr: optional(array(string())),
  upstreamRequests: optionalNumber(),
  badGateway: optionalNumber(),
  upstreamStatuses: optional(counts),
  // The process actor (actors/process.ts).
  command: optional(string()),
  pid: optional(nullable(number())),
  user: optional(string()),
  readyAtMs: optional(nullable(number())),
  sockets: optional(object({ now: someStates(number()), peak: someStates(number()) })),
  log: optional(object({ file: string(), bytes: number(), cut: boolean() })),
  exit: optional(object({ code: nullable(number()), signal: nullable(string()), atMs: number(), asked: boolean() })),
});

const exhaustion = objectOf<ExhaustionPrediction>()({
  actor: string(),
  host: string(),
  portBudget: number(),
  portRange: string(),
  connectRate: number(),
  plannedRate: optional(nullable(number())),
  predictedMs: nullable(number()),
  measuredMs: nullable(number()),
  ratio: nullable(number()),
  basis: optional(string()),
});

const timeWait = objectOf<TimeWaitPrediction>()({
  actor: string(),
  host: string(),
  closer: literal('client', 'server', 'none'),
  predicted: nullable(number()),
  measured: number(),
  ratio: nullable(number()),
  ofPortBudget: nullable(number()),
  basis: optional(string()),
  measuredOn: optional(string()),
  sharedWith: optional(array(string())),
  predictedTogether: optional(number()),
});

const sustainableRate = objectOf<SustainableRatePrediction>()({
  actor: string(),
  host: string(),
  usablePorts: number(),
  delayMs: number(),
  predicted: number(),
  offered: number(),
  measured: nullable(number()),
  ratio: nullable(number()),
  basis: string(),
});

const parityCliff = objectOf<ParityCliffPrediction>()({
  actor: string(),
  host: string(),
  halfPorts: number(),
  predictedAtMs: number(),
  slowedRate: number(),
  connected: number(),
  crossed: boolean(),
  basis: string(),
});

const natPorts = objectOf<NatPortsPrediction>()({
  actor: string(),
  gateway: string(),
  destination: string(),
  translatedPorts: number(),
  pooled: number(),
  predictedHeld: number(),
  measuredHeld: number(),
  ratio: nullable(number()),
  basis: string(),
});

const natRace = objectOf<NatRacePrediction>()({
  actor: string(),
  gateway: string(),
  destination: string(),
  atOnce: number(),
  sharedSourcePorts: number(),
  translatedPorts: number(),
  randomFully: boolean(),
  predictedShare: number(),
  found: number(),
  connections: number(),
  measuredShare: nullable(number()),
  ratio: nullable(number()),
  basis: string(),
});

const poolChurn = objectOf<PoolChurnPrediction>()({
  actor: string(),
  host: string(),
  destination: string(),
  idleKept: number(),
  concurrency: number(),
  arrivals: literal('waves', 'bound'),
  requests: number(),
  predictedConnections: number(),
  measuredConnections: nullable(number()),
  predictedPerRequest: number(),
  measuredPerRequest: nullable(number()),
  ratio: nullable(number()),
  predictedTimeWait: nullable(number()),
  measuredTimeWait: number(),
  basis: string(),
});

const replicaTotals = objectOf<ReplicaTotals>()({
  hosts: array(string()),
  timeWaitPeaks: array(number()),
  timeWaitPeakMax: optional(number()),
  actors: record(
    objectOf<ReplicaTotals['actors'][string]>()({
      replicas: array(string()),
      attempts: number(),
      connected: number(),
      ok: number(),
      missedStarts: number(),
      errors: counts,
      replicasWithErrors: optional(counts),
    }),
  ),
});

const identity = objectOf<RunIdentity>()({
  label: string(),
  scenario: string(),
  kernel: string(),
  params: record(json()),
});

const metricComparison = objectOf<MetricComparison>()({
  path: string(),
  kind: string(),
  baseline: number(),
  current: nullable(number()),
  ratio: nullable(number()),
  tolerance: string(),
  verdict: literal('ok', 'regression', 'improvement', 'missing'),
  excess: number(),
  spread: optionalNumber(),
});

export const COMPARISON_SHAPE = objectOf<Comparison>()({
  baseline: identity,
  current: identity,
  warnings: array(string()),
  metrics: array(metricComparison),
  regressions: number(),
  verdict: literal('pass', 'regression'),
});

export const RUN_IDENTITY_SHAPE = identity;

const threshold = objectOf<ThresholdResult>()({
  expression: string(),
  value: nullable(number()),
  ok: boolean(),
  reason: optional(string()),
});

/** A report as any version wrote it: its plan may lack what later versions added (plan-shape.ts). */
export type StoredReport = Omit<Report, 'scenario'> & {
  scenario: Omit<Report['scenario'], 'plan'> & { plan: StoredPlan };
};

/** A stored report as the code reads it. */
export function reportOf(stored: StoredReport): Report {
  return { ...stored, scenario: { ...stored.scenario, plan: planOf(stored.scenario.plan) } };
}

export const REPORT_SHAPE = objectOf<StoredReport>()({
  schemaVersion: literal(REPORT_SCHEMA_VERSION.major),
  schemaMinor: optional(number()),
  scenario: objectOf<StoredReport['scenario']>()({
    name: string(),
    description: string(),
    file: string(),
    plan: PLAN_SHAPE,
  }),
  profile: nullable(PLAN_PROFILE_SHAPE),
  environment: objectOf<Report['environment']>()({
    waitlab: optional(string()),
    kernel: string(),
    node: string(),
    driver: string(),
    privilege: string(),
    lab: string(),
    labTools: optional(array(string())),
    uncontrolled: optional(array(string())),
  }),
  startedAt: string(),
  durationMs: number(),
  sampling: optional(
    objectOf<NonNullable<Report['sampling']>>()({
      intervalMs: number(),
      stamp: literal('reads-ended'),
      census: string(),
    }),
  ),
  hosts: record(hostReport),
  actors: record(actorReport),
  replicas: optional(record(replicaTotals)),
  predictions: record(
    objectOf<Report['predictions'][string]>()({
      exhaustion: optional(exhaustion),
      timeWait: optional(timeWait),
      sustainableRate: optional(sustainableRate),
      parityCliff: optional(parityCliff),
      natPorts: optional(natPorts),
      natRace: optional(natRace),
      poolChurn: optional(poolChurn),
    }),
  ),
  thresholds: array(threshold),
  findings: array(string()),
  claims: optional(array(findingClaims)),
  captures: optional(array(captureReport)),
  verdict: literal('pass', 'fail', 'interrupted', 'error'),
  comparison: optional(COMPARISON_SHAPE),
  error: optional(string()),
  errorCode: optional(literal(...WAITLAB_ERROR_CODES)),
});
