// The charts of report.html and comparison.html as plain data: an x axis in seconds, series of values, vertical
// marks (first failure, its prediction) and horizontal levels (a port budget). The page only draws them
// (page-charts.js), so what each chart holds is decided, and unit-tested, here.
import { portBudget } from '../core/port-budget.ts';
import { formatDuration } from '../core/units.ts';
import { planLinks } from '../report/evidence/links.ts';
import { stat, type ActorReport, type Report } from '../report/report.ts';
import type { TcpStateName } from '../sampler/tcp-states.ts';
import type { ActorTimeline, HostTimeline } from './run-timeline.ts';
import { numberText } from '../core/number-text.ts';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color: string;
  /** Stacked on the stacked series before it (socket states). */
  stack?: boolean;
  dash?: boolean;
}

export interface ChartSpec {
  id: string;
  title: string;
  /** What the y axis counts. */
  y: string;
  /** Seconds since the run's zero. */
  x: number[];
  series: ChartSeries[];
  /** Vertical lines at x (seconds). */
  marks: { x: number; label: string; color: string }[];
  /** Horizontal lines at y. */
  levels: { y: number; label: string; color: string }[];
  note?: string;
}

/** Bottom to top of a host's stack: TIME_WAIT first, so the port budget line reads against it directly. */
const STATE_ORDER: readonly TcpStateName[] = [
  'TIME_WAIT',
  'ESTABLISHED',
  'CLOSE_WAIT',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'LAST_ACK',
  'CLOSING',
  'SYN_SENT',
  'SYN_RECV',
  'NEW_SYN_RECV',
  'CLOSE',
  'LISTEN',
];
const STATE_COLORS: Record<TcpStateName, string> = {
  TIME_WAIT: '#d62728',
  ESTABLISHED: '#2ca02c',
  CLOSE_WAIT: '#ff7f0e',
  FIN_WAIT1: '#9467bd',
  FIN_WAIT2: '#8c564b',
  LAST_ACK: '#e377c2',
  CLOSING: '#7f7f7f',
  SYN_SENT: '#17becf',
  SYN_RECV: '#bcbd22',
  NEW_SYN_RECV: '#aec7e8',
  CLOSE: '#c7c7c7',
  LISTEN: '#1f77b4',
};
const ERROR_COLORS = ['#d62728', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#bcbd22'];
export const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
  '#393b79',
  '#637939',
];

/** The counters a host's chart shows, where they moved: TIME_WAIT entered, reused, dropped, and overflows and resets. */
export const CHART_COUNTERS = [
  'TcpExt.TW',
  'TcpExt.TWRecycled',
  'TcpExt.TWKilled',
  'TcpExt.TCPTimeWaitOverflow',
  'TcpExt.ListenOverflows',
  'TcpExt.ListenDrops',
  'Tcp.OutRsts',
  'Tcp.AttemptFails',
  'Conntrack.insert_failed',
  'Conntrack.drop',
  'Conntrack.early_drop',
];

export const seconds = (ms: number) => Math.round(ms) / 1000;
const n = (v: number) => numberText(v, 2);
/** A DOM id from a name: ids stay valid whatever a scenario calls its hosts and actors. */
export const chartId = (...parts: string[]) => parts.map((p) => p.replace(/[^A-Za-z0-9_-]/g, '_')).join('--');

export function loadActors(report: Report): [string, ActorReport][] {
  return Object.entries(report.actors).filter(([, a]) => 'attempts' in a);
}

/** When each load actor first failed, and when that was predicted: short labels on the chart, the details in its note. */
function failureMarks(
  report: Report,
  actors: readonly [string, ActorReport][],
): { marks: ChartSpec['marks']; notes: string[] } {
  const marks: ChartSpec['marks'] = [];
  const notes: string[] = [];
  for (const [name, a] of actors) {
    const first = stat(a, 'firstError');
    const started = stat(a, 'startedAtMs');
    const predicted = report.predictions[name]?.exhaustion?.predictedMs;
    if (first) {
      marks.push({ x: seconds(first.atMs), label: `${name}: first ${first.code}`, color: '#a40000' });
      notes.push(
        `${name}'s first ${first.code} at ${formatDuration(first.atMs)}${started === undefined ? '' : `, ${formatDuration(first.atMs - started)} after its start`}`,
      );
    }
    if (typeof predicted === 'number' && started !== undefined) {
      marks.push({ x: seconds(started + predicted), label: `${name}: predicted`, color: '#7f7f7f' });
      notes.push(`predicted ${formatDuration(predicted)} after its start (port budget / connect rate)`);
    }
  }
  return { marks, notes };
}

/** The port budget of a host that connects out, where connect() picks the ports (ip_local_port_range). */
function budgetLevel(report: Report, host: string): ChartSpec['levels'] {
  const links = planLinks(report.scenario.plan).filter((l) => l.client === host && l.ownPorts === undefined);
  const budget = links.length ? portBudget(report.hosts[host]?.sysctls ?? {}) : undefined;
  return budget
    ? [
        {
          y: budget.budget,
          label: `port budget ${n(budget.budget)} per destination ip:port (${budget.range})`,
          color: '#000000',
        },
      ]
    : [];
}

/** Stacked socket states over time, sockstat tw beside the census, the port budget as a level. */
export function hostStatesChart(report: Report, host: string, h: HostTimeline): ChartSpec {
  const states = STATE_ORDER.filter((s) => h.states[s]?.some((v) => v > 0));
  const { marks, notes } = failureMarks(
    report,
    loadActors(report).filter(([, a]) => a.host === host),
  );
  const skipped = report.hosts[host]?.skippedTicks ?? 0;
  // A read slower than the interval skips ticks: the lines join the samples that were taken, and the page says so.
  if (skipped > 0)
    notes.push(
      `${n(skipped)} sampling ticks skipped (a read took longer than the interval): the lines join the ${n(h.samples)} samples taken`,
    );
  return {
    id: chartId('host', host, 'states'),
    title: `Socket states on host ${host} (stacked)`,
    y: 'sockets',
    x: h.t.map(seconds),
    series: [
      ...states.map((s) => ({ label: s, values: h.states[s]!, color: STATE_COLORS[s], stack: true })),
      ...(h.sockstatTw.length ? [{ label: 'sockstat tw', values: h.sockstatTw, color: '#000000', dash: true }] : []),
    ],
    marks,
    levels: budgetLevel(report, host),
    ...(notes.length ? { note: `${notes.join('; ')}.` } : {}),
  };
}

/** Increments per second between consecutive cumulative values; the first from the actor's start. */
export function perSecond(
  t: readonly number[],
  cumulative: readonly number[],
  startedAtMs: number | undefined,
): (number | null)[] {
  return cumulative.map((v, i) => {
    const t0 = i === 0 ? startedAtMs : t[i - 1]!;
    const v0 = i === 0 ? 0 : cumulative[i - 1]!;
    if (t0 === undefined || t[i]! <= t0) return null;
    return Math.round(((v - v0) * 1000 * 10) / (t[i]! - t0)) / 10;
  });
}

/** Attempts, successes and errors by errno per second, the first failure and its prediction marked. */
export function actorLoadChart(report: Report, name: string, a: ActorTimeline): ChartSpec {
  const started = stat(report.actors[name], 'startedAtMs');
  const codes = Object.keys(a.errors);
  const { marks, notes } = failureMarks(report, [[name, report.actors[name]!]]);
  return {
    id: chartId('actor', name, 'load'),
    title: `Load of ${name} on host ${a.host}: per second`,
    y: 'per second',
    x: a.t.map(seconds),
    series: [
      { label: 'attempts /s', values: perSecond(a.t, a.attempts, started), color: '#1f77b4' },
      { label: 'ok /s', values: perSecond(a.t, a.ok, started), color: '#2ca02c' },
      ...codes.map((code, i) => ({
        label: `${code} /s`,
        values: perSecond(a.t, a.errors[code]!, started),
        color: ERROR_COLORS[i % ERROR_COLORS.length]!,
      })),
    ],
    marks,
    levels: [],
    note: [`Rates over each interval between the actor's stats events (every 500 ms)`, ...notes].join('; ') + '.',
  };
}

/** Latency percentiles as the actor's histogram gave them: cumulative since its start. */
export function actorLatencyChart(name: string, a: ActorTimeline): ChartSpec | undefined {
  if (!a.latency) return undefined;
  return {
    id: chartId('actor', name, 'latency'),
    title: `Latency of ${name} (ms, percentiles since its start)`,
    y: 'ms',
    x: a.t.map(seconds),
    series: [
      { label: 'p50', values: a.latency.p50, color: '#2ca02c' },
      { label: 'p90', values: a.latency.p90, color: '#ff7f0e' },
      { label: 'p99', values: a.latency.p99, color: '#d62728' },
    ],
    marks: [],
    levels: [],
  };
}

/** Counter increases since the run's start counters, for the counters that moved. */
export function hostCountersChart(report: Report, host: string, h: HostTimeline): ChartSpec | undefined {
  const start = report.hosts[host]?.counters.start ?? {};
  const moved = CHART_COUNTERS.filter((k) => h.counters[k]?.some((v) => v !== (start[k] ?? h.counters[k]![0])));
  if (!moved.length) return undefined;
  return {
    id: chartId('host', host, 'counters'),
    title: `Kernel counters on host ${host}: increase since the run's start`,
    y: 'count',
    x: h.t.map(seconds),
    series: moved.map((k, i) => ({
      label: k,
      values: h.counters[k]!.map((v) => v - (start[k] ?? h.counters[k]![0]!)),
      color: PALETTE[i % PALETTE.length]!,
    })),
    marks: [],
    levels: [],
  };
}

/** Series of several runs on one x axis: the union of their times, null where a run has no point. */
export function overlay(runs: readonly { label: string; x: readonly number[]; values: readonly (number | null)[] }[]): {
  x: number[];
  series: ChartSeries[];
} {
  const x = [...new Set(runs.flatMap((r) => r.x))].sort((a, b) => a - b);
  const at = new Map(x.map((v, i) => [v, i]));
  const series = runs.map((r, k) => {
    const values = new Array<number | null>(x.length).fill(null);
    r.x.forEach((v, i) => (values[at.get(v)!] = r.values[i] ?? null));
    return { label: r.label, values, color: PALETTE[k % PALETTE.length]! };
  });
  return { x, series };
}
