// A run's time series at the resolution it was sampled, read back from samples.ndjson: per host every state
// count, sockstat's tw and the key counters of each sample; per load actor its stats events (every 500 ms).
// report.json keeps only a capped series of state counts; the charts of report.html want all of it.
// Past MAX_POINTS a series is bucketed (each bucket keeps its maxima, so no peak is lost) and says so.
import { closeSync, createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { NDJSON_STREAM_MAX_BYTES, openInputFile } from '../core/input-file.ts';
import type { AgentEvent } from '../agent/protocol.ts';
import type { Report } from '../report/report.ts';
import { TCP_STATES, type TcpStateName } from '../sampler/tcp-states.ts';

/** Points per series on a page: enough for a 2.5-minute run at 100 ms untouched, light enough for 12 runs side by side. */
export const MAX_POINTS = 1500;

export interface HostTimeline {
  /** ms since the run's zero. */
  t: number[];
  /** Each state's count at t[i]; only states that were ever seen. */
  states: Partial<Record<TcpStateName, number[]>>;
  /** The kernel's own TIME_WAIT count (sockstat tw). */
  sockstatTw: number[];
  /** Key TcpExt/Tcp counters, absolute, at t[i]. */
  counters: Record<string, number[]>;
  /** Samples read; more than t.length when bucketed. */
  samples: number;
}

export interface ActorTimeline {
  host: string;
  /** ms since the run's zero, when each stats event was sent. */
  t: number[];
  attempts: number[];
  ok: number[];
  /** Cumulative errors per errno code (0 before a code's first). */
  errors: Record<string, number[]>;
  /** Percentiles since the actor started (its HDR histogram is cumulative); absent where it measures none. */
  latency?: { p50: number[]; p90: number[]; p99: number[] };
  events: number;
}

export interface RunTimeline {
  /** 'samples': samples.ndjson; 'report': the capped series of report.json (no samples.ndjson to read). */
  source: 'samples' | 'report';
  hosts: Record<string, HostTimeline>;
  actors: Record<string, ActorTimeline>;
  /** Hosts whose series were bucketed to MAX_POINTS: samples read -> points kept. */
  bucketed: Record<string, { from: number; to: number }>;
  /** Load actors whose stats events were thinned to MAX_POINTS: their rates are over the longer intervals left. */
  bucketedActors: Record<string, { from: number; to: number }>;
}

// A sample taken while the host's census was still running has counters but no socket states: the charts of
// socket states are drawn from the samples that have them.
type SampleEvent = Extract<AgentEvent, { type: 'sample' }> & {
  tcp: NonNullable<Extract<AgentEvent, { type: 'sample' }>['tcp']>;
};
type StatsEvent = Extract<AgentEvent, { type: 'stats' }>;

function emptyHost(): HostTimeline {
  return { t: [], states: {}, sockstatTw: [], counters: {}, samples: 0 };
}

function addSample(h: HostTimeline, s: SampleEvent): void {
  const i = h.t.length;
  h.t.push(s.t);
  h.samples++;
  for (const state of TCP_STATES) {
    const n = s.tcp.total[state] ?? 0;
    const column = h.states[state];
    if (column) column.push(n);
    else if (n > 0) h.states[state] = [...new Array<number>(i).fill(0), n];
  }
  h.sockstatTw.push(s.sockstat.tw);
  for (const [name, v] of Object.entries(s.counters)) (h.counters[name] ??= new Array<number>(i).fill(v)).push(v);
  for (const column of Object.values(h.counters))
    while (column.length <= i) column.push(column[column.length - 1] ?? 0);
}

function addStats(a: ActorTimeline, e: StatsEvent): void {
  const stats = e.stats as {
    attempts?: number;
    ok?: number;
    errors?: Record<string, { count: number }>;
    latencyMs?: { p50: number; p90: number; p99: number };
  };
  const i = a.t.length;
  a.t.push(e.t);
  a.events++;
  a.attempts.push(stats.attempts ?? 0);
  a.ok.push(stats.ok ?? 0);
  for (const [code, c] of Object.entries(stats.errors ?? {}))
    (a.errors[code] ??= new Array<number>(i).fill(0)).push(c.count);
  for (const column of Object.values(a.errors)) while (column.length <= i) column.push(column[column.length - 1] ?? 0);
  if (stats.latencyMs) {
    a.latency ??= {
      p50: new Array<number>(i).fill(0),
      p90: new Array<number>(i).fill(0),
      p99: new Array<number>(i).fill(0),
    };
    a.latency.p50.push(stats.latencyMs.p50);
    a.latency.p90.push(stats.latencyMs.p90);
    a.latency.p99.push(stats.latencyMs.p99);
  }
}

/** Indices [start, end) of `n` points cut into at most `max` consecutive buckets. */
function buckets(n: number, max: number): [number, number][] {
  const size = Math.ceil(n / max);
  const out: [number, number][] = [];
  for (let start = 0; start < n; start += size) out.push([start, Math.min(n, start + size)]);
  return out;
}

const maxOf = (column: number[], [a, b]: [number, number]) =>
  column.slice(a, b).reduce((m, v) => Math.max(m, v), -Infinity);

/** Each bucket's first time and its maxima (counters are cumulative, so their maximum is their last value). */
export function bucketHost(h: HostTimeline, max: number): HostTimeline {
  if (h.t.length <= max) return h;
  const bs = buckets(h.t.length, max);
  const squeeze = (column: number[]) => bs.map((b) => maxOf(column, b));
  return {
    t: bs.map(([a]) => h.t[a]!),
    states: Object.fromEntries(Object.entries(h.states).map(([s, c]) => [s, squeeze(c)])),
    sockstatTw: squeeze(h.sockstatTw),
    counters: Object.fromEntries(Object.entries(h.counters).map(([k, c]) => [k, squeeze(c)])),
    samples: h.samples,
  };
}

/** Stats events are cumulative: a bucket keeps its last event (latency percentiles too). */
function bucketActor(a: ActorTimeline, max: number): ActorTimeline {
  if (a.t.length <= max) return a;
  const lasts = buckets(a.t.length, max).map(([, b]) => b - 1);
  const pick = (column: number[]) => lasts.map((i) => column[i]!);
  return {
    ...a,
    t: pick(a.t),
    attempts: pick(a.attempts),
    ok: pick(a.ok),
    errors: Object.fromEntries(Object.entries(a.errors).map(([k, c]) => [k, pick(c)])),
    ...(a.latency ? { latency: { p50: pick(a.latency.p50), p90: pick(a.latency.p90), p99: pick(a.latency.p99) } } : {}),
  };
}

/** The capped series report.json holds, where samples.ndjson is gone: states only. */
function fromReport(report: Report): RunTimeline {
  const hosts = Object.fromEntries(
    Object.entries(report.hosts).map(([name, h]) => [
      name,
      { t: h.series.t, states: h.series.states, sockstatTw: [], counters: {}, samples: h.samples },
    ]),
  );
  return { source: 'report', hosts, actors: {}, bucketed: {}, bucketedActors: {} };
}

/** Reads samples.ndjson line by line (a line torn by a kill is skipped); falls back to report.json's series. */
export async function readRunTimeline(report: Report, samplesFile: string, max = MAX_POINTS): Promise<RunTimeline> {
  if (!existsSync(samplesFile)) return fromReport(report);
  const hosts: Record<string, HostTimeline> = {};
  const actors: Record<string, ActorTimeline> = {};
  // Read up to the size it had when opened: a file that another process keeps growing does not keep this going.
  const { fd, size } = openInputFile(samplesFile, NDJSON_STREAM_MAX_BYTES);
  if (size === 0) closeSync(fd);
  const lines: AsyncIterable<string> | string[] =
    size === 0
      ? []
      : createInterface({ input: createReadStream('', { fd, start: 0, end: size - 1 }), crlfDelay: Infinity });
  for await (const line of lines) {
    let e: AgentEvent;
    try {
      e = JSON.parse(line) as AgentEvent;
    } catch {
      continue;
    }
    if (e.type === 'sample' && e.tcp && report.hosts[e.host])
      addSample((hosts[e.host] ??= emptyHost()), e as SampleEvent);
    else if (e.type === 'stats' && report.actors[e.actor])
      addStats((actors[e.actor] ??= { host: e.host, t: [], attempts: [], ok: [], errors: {}, events: 0 }), e);
  }
  const bucketed: RunTimeline['bucketed'] = {};
  for (const [name, h] of Object.entries(hosts)) {
    hosts[name] = bucketHost(h, max);
    if (h.t.length > max) bucketed[name] = { from: h.t.length, to: hosts[name].t.length };
  }
  const bucketedActors: RunTimeline['bucketedActors'] = {};
  for (const [name, a] of Object.entries(actors)) {
    actors[name] = bucketActor(a, max);
    if (a.t.length > max) bucketedActors[name] = { from: a.t.length, to: actors[name].t.length };
  }
  return { source: 'samples', hosts, actors, bucketed, bucketedActors };
}
