// Every metric of a report, declared once (k6's metrics/registry.go is the model): its path, unit, kind, and,
// where a comparison with a baseline judges it by default, its tolerance and which way is worse. Threshold and
// tolerance paths are checked against it (core/metric-paths.ts); compare, the baseline, JUnit and the README's
// metric table read it. A path segment in braces stands for a name: see PLACEHOLDERS.

import { ERROR_CODE, ERROR_CODE_NAMES } from './error-codes.ts';

export type MetricKind = 'count' | 'rate' | 'latency' | 'peak' | 'ratio' | 'duration';

/** Which way a change is worse: a rise (errors, TIME_WAIT), a fall (successes, rate), or neither (a figure to read). */
export type Worse = 'rise' | 'fall' | 'neither';

export interface MetricDef {
  readonly path: string;
  readonly unit: string;
  readonly kind: MetricKind;
  readonly worse: Worse;
  /** What it measures, for the README's table and a comparison's "kind" column. */
  readonly label: string;
  /**
   * Compared with a baseline by default: the allowed change in the worse direction ("20%", or an absolute "5").
   * Without one a metric is kept in a baseline but judged only where a scenario or --tolerance names it.
   */
  readonly tolerance?: string;
  /** A change of at most this much, either way, is never a regression: sampled peaks catch a socket in passing. */
  readonly slack?: number;
  /** Computed for comparisons from other metrics, not written into report.json: no threshold can read it. */
  readonly derived?: true;
  /** In a baseline (and so comparable by a scenario's or the command line's tolerance). */
  readonly baseline?: true;
  /** Written only once seen (an error code, a termination state): a run without it had none, so it compares as 0. */
  readonly seenOnly?: true;
}

export interface Placeholder {
  /** What it names, in a refusal: `no host "x"`. */
  readonly label: string;
  /** Names may hold dots (counters "Tcp.ActiveOpens", peers "198.18.0.1"): one placeholder may span several path segments. */
  readonly dotted?: true;
  /** Names from the plan or the kernel (given when a path is checked), or a form any name of it has. */
  readonly names: 'host' | 'actor' | 'state' | 'stat' | RegExp;
  /** The form, in words, where names is a RegExp. */
  readonly form?: string;
  /** Names a misspelt one may be a slip of, where names is a RegExp ("did you mean"). */
  readonly near?: readonly string[];
}

export const PLACEHOLDERS: Readonly<Record<string, Placeholder>> = {
  host: { label: 'host', names: 'host' },
  actor: { label: 'actor', names: 'actor' },
  state: { label: 'TCP state', names: 'state' },
  code: {
    label: 'error code',
    names: ERROR_CODE,
    form: 'an errno name such as EADDRNOTAVAIL, HTTP_<status>, REQUEST_TIMEOUT, UND_ERR_*',
    near: ERROR_CODE_NAMES,
  },
  status: { label: 'HTTP status', names: /^\d{3}$/, form: 'three digits' },
  cause: { label: 'cause', names: /^[a-z][A-Za-z]*$/, form: 'a cause such as workerConnections or portsExhausted' },
  termination: {
    label: 'termination state',
    names: /^[A-Za-z-]{4}\/-?\d+$/,
    form: 'a termination state and status such as sQ--/503',
  },
  percentile: {
    label: 'latency figure',
    names: /^(p50|p90|p99|max|mean|count)$/,
    form: 'p50, p90, p99, max, mean or count',
  },
  counter: {
    label: 'kernel counter',
    dotted: true,
    names: /^(?:(?:Tcp|TcpExt)\.[A-Za-z0-9]+|Conntrack\.[a-z_]+)$/,
    form: "Tcp.<name>, TcpExt.<name> or (a gateway's) Conntrack.<name>",
  },
  peer: { label: 'peer', dotted: true, names: /^[0-9a-f.:[\]]+$/i, form: 'an address, or address:port' },
  index: { label: 'replica index', names: /^\d+$/, form: 'a number from 0' },
  // The actor kinds own their stats (actors/*.ts): their names are not repeated here.
  // Some stats are keyed by what the actor saw (a proxy's log lines, HAProxy's termination states).
  stat: { label: 'stat', dotted: true, names: 'stat', form: "a stat of the actor's kind" },
};

const m = (
  path: string,
  unit: string,
  kind: MetricKind,
  worse: Worse,
  label: string,
  more: Partial<MetricDef> = {},
): MetricDef => ({ path, unit, kind, worse, label, ...more });

export const METRICS: readonly MetricDef[] = [
  m('durationMs', 'ms', 'duration', 'neither', 'run duration'),

  // Load actors. An error that the baseline never had may not appear at all: any rise from 0 exceeds 10% of 0.
  m('actors.{actor}.errors.{code}.count', 'errors', 'count', 'rise', 'errors by code', {
    tolerance: '10%',
    baseline: true,
    seenOnly: true,
  }),
  m('actors.{actor}.errorCount', 'errors', 'count', 'rise', 'errors', { tolerance: '10%', baseline: true }),
  m('actors.{actor}.missedStarts', 'starts', 'count', 'rise', 'missed starts', { tolerance: '10%', baseline: true }),
  m('actors.{actor}.ok', 'requests', 'count', 'fall', 'successes', { tolerance: '10%', baseline: true }),
  m('actors.{actor}.attempts', 'requests', 'count', 'neither', 'requests attempted', { baseline: true }),
  m('actors.{actor}.connected', 'connections', 'count', 'neither', 'connections made', { baseline: true }),
  m('actors.{actor}.achievedRate', 'per s', 'rate', 'fall', 'achieved rate', { tolerance: '10%', baseline: true }),
  m('actors.{actor}.latencyMs.p99', 'ms', 'latency', 'rise', 'latency p99', { tolerance: '25%', baseline: true }),
  m('actors.{actor}.latencyMs.{percentile}', 'ms', 'latency', 'rise', 'latency', { baseline: true }),
  m('actors.{actor}.statuses.{status}', 'responses', 'count', 'neither', 'responses by HTTP status'),
  // Server-side losses, as the process's own log counted them (report/evidence/server-losses.ts): nginx's error
  // log and the built-in proxy's failures by cause (every cause present, 0 when never seen), HAProxy's abnormal
  // requests by termination state and status.
  m(
    'actors.{actor}.errorLog.causes.{cause}',
    'log lines',
    'count',
    'rise',
    'server-side losses by cause (its own error log)',
    { tolerance: '10%', baseline: true },
  ),
  m('actors.{actor}.errorLog.lines', 'log lines', 'count', 'rise', 'error log lines', { baseline: true }),
  m(
    'actors.{actor}.terminations.{termination}',
    'requests',
    'count',
    'rise',
    'requests HAProxy ended abnormally, by termination state/status',
    { tolerance: '10%', baseline: true, seenOnly: true },
  ),
  m('actors.{actor}.{stat}', 'as the kind says', 'count', 'neither', "another stat of the actor's kind", {
    baseline: true,
  }),

  // Hosts: socket census peaks (sampled every 100 ms: a passive close caught in CLOSE_WAIT, a TIME_WAIT or two, are not a change).
  m('hosts.{host}.peak.total.TIME_WAIT', 'sockets', 'peak', 'rise', 'peak TIME_WAIT', {
    tolerance: '20%',
    slack: 5,
    baseline: true,
  }),
  m('hosts.{host}.peak.total.CLOSE_WAIT', 'sockets', 'peak', 'rise', 'peak CLOSE_WAIT', {
    tolerance: '20%',
    slack: 5,
    baseline: true,
  }),
  m('hosts.{host}.peak.total.{state}', 'sockets', 'peak', 'rise', 'peak sockets in a state', { baseline: true }),
  m('hosts.{host}.peak.listen.{state}', 'sockets', 'peak', 'rise', 'peak sockets in a state, listening side'),
  m('hosts.{host}.peak.ephemeral.{state}', 'sockets', 'peak', 'rise', 'peak sockets in a state, ephemeral side'),
  m(
    'hosts.{host}.peak.split.{state}.listen',
    'sockets',
    'peak',
    'rise',
    "a state's total peak, listening side of that sample",
  ),
  m(
    'hosts.{host}.peak.split.{state}.ephemeral',
    'sockets',
    'peak',
    'rise',
    "a state's total peak, ephemeral side of that sample",
  ),
  m('hosts.{host}.peak.atMs.{state}', 'ms', 'duration', 'neither', 'when a state peaked'),
  m('hosts.{host}.peak.sockstatTw', 'sockets', 'peak', 'rise', 'peak TIME_WAIT (sockstat)', {
    tolerance: '20%',
    slack: 5,
    baseline: true,
  }),
  m('hosts.{host}.peak.peers.listen.{peer}.{state}', 'sockets', 'peak', 'rise', 'peak sockets in a state, by client'),
  m(
    'hosts.{host}.peak.peers.ephemeral.{peer}.{state}',
    'sockets',
    'peak',
    'rise',
    'peak sockets in a state, by server',
  ),
  m('hosts.{host}.final.{state}', 'sockets', 'count', 'rise', 'sockets in a state at the end'),
  m('hosts.{host}.samples', 'samples', 'count', 'fall', 'samples taken'),
  m('hosts.{host}.skippedTicks', 'ticks', 'count', 'rise', 'ticks without a sample'),
  m('hosts.{host}.censusRepeats', 'rows', 'count', 'rise', 'census rows dropped as repeats of a 4-tuple'),
  m('hosts.{host}.census.taken', 'censuses', 'count', 'fall', 'socket censuses taken'),
  m('hosts.{host}.census.skipped', 'censuses', 'count', 'rise', 'censuses skipped'),
  m('hosts.{host}.census.perSecond', 'per s', 'rate', 'fall', 'censuses per second'),
  m('hosts.{host}.census.meanMs', 'ms', 'latency', 'rise', 'census time, mean'),
  m('hosts.{host}.census.maxMs', 'ms', 'latency', 'rise', 'census time, max'),

  // Kernel counters. Totals grow with the run's length ("connections opened 2 -> 400" between runs of different
  // length): by default compare judges their per-request forms below instead.
  m('hosts.{host}.counters.delta.Tcp.ActiveOpens', 'connections', 'count', 'rise', 'connections opened', {
    baseline: true,
  }),
  m('hosts.{host}.counters.delta.TcpExt.TW', 'sockets', 'count', 'rise', 'TIME_WAIT entered', { baseline: true }),
  m('hosts.{host}.counters.delta.TcpExt.TCPTimeWaitOverflow', 'sockets', 'count', 'rise', 'TIME_WAIT overflows', {
    tolerance: '10%',
    baseline: true,
  }),
  m('hosts.{host}.counters.delta.TcpExt.ListenOverflows', 'SYNs', 'count', 'rise', 'listen overflows', {
    tolerance: '10%',
    baseline: true,
  }),
  // A gateway's connection tracking (sampler/conntrack-stats.ts): clashes lost at insertion, entries refused when full.
  m(
    'hosts.{host}.counters.delta.Conntrack.insert_failed',
    'entries',
    'count',
    'rise',
    'conntrack insertions lost to a clash (SYN dropped)',
    { baseline: true },
  ),
  m('hosts.{host}.counters.delta.Conntrack.drop', 'entries', 'count', 'rise', 'conntrack entries refused: table full', {
    tolerance: '10%',
    baseline: true,
  }),
  m('hosts.{host}.conntrack.entriesPeak', 'entries', 'peak', 'rise', 'conntrack entries at their peak', {
    baseline: true,
  }),
  m('hosts.{host}.conntrack.atMs', 'ms', 'duration', 'neither', 'when conntrack entries peaked'),
  m('hosts.{host}.conntrack.max', 'entries', 'count', 'neither', "nf_conntrack_max (the whole machine's limit)"),
  m('hosts.{host}.counters.delta.{counter}', 'events', 'count', 'neither', "a kernel counter's change", {
    baseline: true,
  }),
  m('hosts.{host}.counters.start.{counter}', 'events', 'count', 'neither', 'a kernel counter at the start'),
  m('hosts.{host}.counters.end.{counter}', 'events', 'count', 'neither', 'a kernel counter at the end'),
  // Per request the load actors attempted: like with like across runs of different length or rate.
  // A slack of 0.05 per request: a kept-alive pool opens a handful of connections for hundreds of requests, and 3 or 5
  // of 200 (0.015 -> 0.025, CI saw it) is +67% of nearly nothing; a pool lost (-> 1 per request) is still caught.
  m(
    'hosts.{host}.perRequest.connectionsOpened',
    'connections per request',
    'ratio',
    'rise',
    'connections opened per request',
    { tolerance: '20%', slack: 0.05, derived: true, baseline: true },
  ),
  m(
    'hosts.{host}.perRequest.timeWaitEntered',
    'sockets per request',
    'ratio',
    'rise',
    'TIME_WAIT entered per request',
    { tolerance: '20%', slack: 0.05, derived: true, baseline: true },
  ),

  // Predictions beside what was measured (report/predictions.ts).
  m('predictions.{actor}.exhaustion.portBudget', 'ports', 'count', 'neither', 'port budget'),
  m('predictions.{actor}.exhaustion.connectRate', 'per s', 'rate', 'neither', 'connect rate the prediction used'),
  m('predictions.{actor}.exhaustion.predictedMs', 'ms', 'duration', 'neither', 'predicted first EADDRNOTAVAIL'),
  m('predictions.{actor}.exhaustion.measuredMs', 'ms', 'duration', 'neither', 'measured first EADDRNOTAVAIL'),
  m(
    'predictions.{actor}.exhaustion.ratio',
    'measured / predicted',
    'ratio',
    'neither',
    'exhaustion, measured over predicted',
  ),
  m('predictions.{actor}.timeWait.predicted', 'sockets', 'peak', 'neither', 'predicted TIME_WAIT peak'),
  m('predictions.{actor}.timeWait.measured', 'sockets', 'peak', 'neither', 'measured TIME_WAIT peak'),
  m(
    'predictions.{actor}.timeWait.ratio',
    'measured / predicted',
    'ratio',
    'neither',
    'TIME_WAIT, measured over predicted',
  ),
  m(
    'predictions.{actor}.timeWait.ofPortBudget',
    'of the budget',
    'ratio',
    'neither',
    'TIME_WAIT peak over the port budget',
  ),
  m(
    'predictions.{actor}.exhaustion.plannedRate',
    'per s',
    'rate',
    'neither',
    'the rate the plan offered, beside the connect() rate',
  ),
  m(
    'predictions.{actor}.timeWait.predictedTogether',
    'sockets',
    'peak',
    'neither',
    'TIME_WAIT predicted for the floods that share one count',
  ),
  m(
    'predictions.{actor}.sustainableRate.usablePorts',
    'ports',
    'count',
    'neither',
    'ports connect() may take over under tcp_tw_reuse',
  ),
  m('predictions.{actor}.sustainableRate.delayMs', 'ms', 'duration', 'neither', 'tcp_tw_reuse_delay'),
  m(
    'predictions.{actor}.sustainableRate.predicted',
    'per s',
    'rate',
    'neither',
    'predicted sustainable new-connection rate under tcp_tw_reuse',
  ),
  m('predictions.{actor}.sustainableRate.offered', 'per s', 'rate', 'neither', 'the rate offered against it'),
  m(
    'predictions.{actor}.sustainableRate.measured',
    'per s',
    'rate',
    'neither',
    'measured new-connection rate under tcp_tw_reuse',
  ),
  m(
    'predictions.{actor}.sustainableRate.ratio',
    'measured / predicted',
    'ratio',
    'neither',
    'sustainable rate, measured over predicted',
  ),
  m('predictions.{actor}.parityCliff.halfPorts', 'ports', 'count', 'neither', "ports of connect()'s preferred parity"),
  m(
    'predictions.{actor}.parityCliff.predictedAtMs',
    'ms',
    'duration',
    'neither',
    'when connect() is predicted to have used its preferred half',
  ),
  m(
    'predictions.{actor}.parityCliff.slowedRate',
    'per s',
    'rate',
    'neither',
    'the connect() rate predicted past the cliff',
  ),
  m(
    'predictions.{actor}.natPorts.translatedPorts',
    'ports',
    'count',
    'neither',
    "a NAT gateway's translated ports toward the destination",
  ),
  m(
    'predictions.{actor}.natPorts.pooled',
    'connections',
    'count',
    'neither',
    'kept-alive connections the pools behind the gateway hold open',
  ),
  m(
    'predictions.{actor}.natPorts.predictedHeld',
    'connections',
    'count',
    'neither',
    'connections predicted through the NAT',
  ),
  m(
    'predictions.{actor}.natPorts.measuredHeld',
    'connections',
    'peak',
    'neither',
    'connections the server held from the gateway',
  ),
  m(
    'predictions.{actor}.natPorts.ratio',
    'measured / predicted',
    'ratio',
    'neither',
    'connections through the NAT, measured over predicted',
  ),
  m(
    'predictions.{actor}.natRace.atOnce',
    'connections',
    'count',
    'neither',
    'connections the floods behind a NAT gateway keep going at once',
  ),
  m(
    'predictions.{actor}.natRace.sharedSourcePorts',
    'ports',
    'count',
    'neither',
    'ports of the ip_local_port_range every client behind the gateway draws from',
  ),
  m(
    'predictions.{actor}.natRace.translatedPorts',
    'ports',
    'count',
    'neither',
    "ports the gateway's masquerade translates into",
  ),
  m(
    'predictions.{actor}.natRace.predictedShare',
    'share',
    'ratio',
    'neither',
    'share of SYNs predicted to find their source port held at the NAT',
  ),
  m(
    'predictions.{actor}.natRace.found',
    'lookups',
    'count',
    'neither',
    "the gateway's Conntrack.found: NAT lookups that found a tuple taken",
  ),
  m(
    'predictions.{actor}.natRace.connections',
    'connections',
    'count',
    'neither',
    'connections the floods behind the gateway made',
  ),
  m(
    'predictions.{actor}.natRace.measuredShare',
    'share',
    'ratio',
    'neither',
    'Conntrack.found over the connections made',
  ),
  m(
    'predictions.{actor}.natRace.ratio',
    'measured / predicted',
    'ratio',
    'neither',
    'SYNs translated away from their source port, measured share over predicted',
  ),
  m(
    'predictions.{actor}.parityCliff.connected',
    'connections',
    'count',
    'neither',
    'connections made, against the half',
  ),
  m('predictions.{actor}.poolChurn.idleKept', 'connections', 'count', 'neither', 'idle connections a pool keeps'),
  m(
    'predictions.{actor}.poolChurn.concurrency',
    'requests',
    'count',
    'neither',
    'requests in flight at once through a pool',
  ),
  m('predictions.{actor}.poolChurn.requests', 'requests', 'count', 'neither', 'requests a pool carried'),
  m(
    'predictions.{actor}.poolChurn.predictedConnections',
    'connections',
    'count',
    'neither',
    'new connections predicted for a pool smaller than its load',
  ),
  m(
    'predictions.{actor}.poolChurn.measuredConnections',
    'connections',
    'count',
    'neither',
    'new connections of a pool (Tcp.ActiveOpens of its host)',
  ),
  m(
    'predictions.{actor}.poolChurn.predictedPerRequest',
    'connections per request',
    'ratio',
    'neither',
    'new connections per request predicted for a pool smaller than its load',
  ),
  m(
    'predictions.{actor}.poolChurn.measuredPerRequest',
    'connections per request',
    'ratio',
    'neither',
    'new connections per request of a pool (Tcp.ActiveOpens of its host / requests)',
  ),
  m(
    'predictions.{actor}.poolChurn.ratio',
    'measured / predicted',
    'ratio',
    'neither',
    'new connections per request of a pool, measured over predicted',
  ),
  m(
    'predictions.{actor}.poolChurn.predictedTimeWait',
    'sockets',
    'peak',
    'neither',
    "TIME_WAIT predicted on a pool's host from the connections it closed",
  ),
  m(
    'predictions.{actor}.poolChurn.measuredTimeWait',
    'sockets',
    'peak',
    'neither',
    "TIME_WAIT on a pool's host toward its destination",
  ),

  // A scaled host's replicas added up (--scale), by the scenario's host and actor names.
  m('replicas.{host}.timeWaitPeaks.{index}', 'sockets', 'peak', 'rise', "a replica's peak TIME_WAIT"),
  m('replicas.{host}.timeWaitPeakMax', 'sockets', 'peak', 'rise', 'the largest peak TIME_WAIT of any replica'),
  m('replicas.{host}.actors.{actor}.attempts', 'requests', 'count', 'neither', 'requests attempted, all replicas'),
  m('replicas.{host}.actors.{actor}.connected', 'connections', 'count', 'neither', 'connections made, all replicas'),
  m('replicas.{host}.actors.{actor}.ok', 'requests', 'count', 'fall', 'successes, all replicas'),
  m('replicas.{host}.actors.{actor}.missedStarts', 'starts', 'count', 'rise', 'missed starts, all replicas'),
  m('replicas.{host}.actors.{actor}.errors.{code}', 'errors', 'count', 'rise', 'errors by code, all replicas', {
    seenOnly: true,
  }),
  m(
    'replicas.{host}.actors.{actor}.replicasWithErrors.{code}',
    'replicas',
    'count',
    'rise',
    'replicas that met an error code at least once',
    { seenOnly: true },
  ),
];

/** Why a top-level part of report.json that holds no metric of the run is refused as a path. */
export const NOT_METRICS: Readonly<Record<string, string>> = {
  comparison:
    "a comparison with a baseline is judged by its tolerances (--tolerance, a scenario's regressions), not by thresholds, and is added after them: exit 5 on a regression",
};

/** A metric's default tolerance in the grammar of core/tolerance.ts: "+20%" where a rise is worse, "-10%" where a fall is. */
export function defaultTolerance(def: MetricDef): string | undefined {
  if (!def.tolerance) return undefined;
  return `${def.worse === 'fall' ? '-' : def.worse === 'rise' ? '+' : '±'}${def.tolerance}`;
}
