// Streams every sample and stats event to samples.ndjson as it arrives and keeps only bounded
// aggregates in memory: peaks, a downsampled series, the latest values.
import { createWriteStream, truncateSync, type WriteStream } from 'node:fs';
import { OutputError } from '../core/errors.ts';
import type { AnyActorStats } from '../actors/registry.ts';
import type { AgentEvent } from '../agent/protocol.ts';
import type { CensusSource } from '../sampler/socket-rows.ts';
import { TCP_STATES, type StateCounts, type TcpStateName } from '../sampler/tcp-states.ts';

type SampleEvent = Extract<AgentEvent, { type: 'sample' }>;
/** A sample that holds a census. */
type CensusSample = SampleEvent & { tcp: NonNullable<SampleEvent['tcp']> };

/** Points kept per host in report.json's series; past it, neighbours merge (keeping their maxima). */
export const SERIES_CAP = 1000;

/** Peers remembered per host and side over a whole run. */
export const MAX_RECORDED_PEERS = 64;

export interface Peaks {
  total: StateCounts;
  listen: StateCounts;
  ephemeral: StateCounts;
  /** Per-peer peaks: listening side by client ip, ephemeral side by server ip:port. */
  peers: { listen: Record<string, StateCounts>; ephemeral: Record<string, StateCounts> };
  /** When each state's total peak was first reached, ms since the run's zero. */
  atMs: Partial<Record<TcpStateName, number>>;
  /**
   * Each state's total peak split by role, in the sample that reached it: the two parts add up to the peak
   * (the role peaks above come from different samples and need not).
   */
  split: Partial<Record<TcpStateName, { listen: number; ephemeral: number }>>;
  sockstatTw: number;
}

export interface HostSeries {
  /** Columnar: t[i] with each state's total count at t[i]; a point may stand for several merged samples. */
  t: number[];
  states: Partial<Record<TcpStateName, number[]>>;
}

/** How the census went on one host: what it read from, how often it ended, how long it took. */
export interface CensusRecord {
  /** Censuses taken, by source; a sample written before the source was recorded counts as /proc. */
  bySource: Partial<Record<CensusSource, number>>;
  /** Samples without a census of their own: the previous census was still running at their tick. */
  skipped: number;
  totalMs: number;
  maxMs: number;
}

export class HostRecord {
  readonly peaks: Peaks = {
    total: {},
    listen: {},
    ephemeral: {},
    peers: { listen: {}, ephemeral: {} },
    atMs: {},
    split: {},
    sockstatTw: 0,
  };
  readonly series: HostSeries = { t: [], states: {} };
  samples = 0;
  skippedTicks = 0;
  /** Rows the census dropped over the run as repeats of a 4-tuple within one table read. */
  censusRepeats = 0;
  readonly census: CensusRecord = { bySource: {}, skipped: 0, totalMs: 0, maxMs: 0 };
  /** The first and the last sample's time. */
  firstT: number | undefined;
  lastT: number | undefined;
  last: SampleEvent | undefined;
  /** The last sample that held a census. */
  lastCensus: CensusSample | undefined;
  /** A forwarding host's conntrack entries at their highest sample, and when; undefined for a host without conntrack counters. */
  conntrackPeak: { entries: number; atMs: number } | undefined;
  private stride = 1;
  private pending = 0;

  add(s: SampleEvent): void {
    this.samples++;
    this.skippedTicks += s.skipped;
    this.firstT ??= s.t;
    this.lastT = s.t;
    this.last = s;
    this.peaks.sockstatTw = Math.max(this.peaks.sockstatTw, s.sockstat.tw);
    const entries = s.counters['Conntrack.entries'];
    if (entries !== undefined && entries > (this.conntrackPeak?.entries ?? -1))
      this.conntrackPeak = { entries, atMs: s.t };
    if (!s.tcp) {
      this.census.skipped++;
      return;
    }
    this.addCensus(s as CensusSample);
  }

  private addCensus(s: CensusSample): void {
    this.lastCensus = s;
    this.censusRepeats += s.repeats ?? 0;
    const source = s.census?.source ?? 'proc';
    this.census.bySource[source] = (this.census.bySource[source] ?? 0) + 1;
    this.census.totalMs += s.census?.ms ?? 0;
    this.census.maxMs = Math.max(this.census.maxMs, s.census?.ms ?? 0);
    for (const role of ['total', 'listen', 'ephemeral'] as const) {
      for (const [state, n] of Object.entries(s.tcp[role]) as [TcpStateName, number][]) {
        if (n > (this.peaks[role][state] ?? 0)) {
          this.peaks[role][state] = n;
          if (role === 'total') {
            this.peaks.atMs[state] = s.t;
            this.peaks.split[state] = { listen: s.tcp.listen[state] ?? 0, ephemeral: s.tcp.ephemeral[state] ?? 0 };
          }
        }
      }
    }
    for (const side of ['listen', 'ephemeral'] as const) {
      const seen = this.peaks.peers[side];
      for (const [peer, counts] of Object.entries(s.tcp.peers[side])) {
        if (!seen[peer] && Object.keys(seen).length >= MAX_RECORDED_PEERS) continue;
        const peak = (seen[peer] ??= {});
        for (const [state, n] of Object.entries(counts) as [TcpStateName, number][])
          peak[state] = Math.max(peak[state] ?? 0, n);
      }
    }
    this.addPoint(s.t, s.tcp.total);
  }

  private addPoint(t: number, counts: StateCounts): void {
    const merging = this.pending > 0;
    if (!merging) this.series.t.push(t);
    const i = this.series.t.length - 1;
    for (const state of TCP_STATES) {
      const n = counts[state] ?? 0;
      let column = this.series.states[state];
      if (!column) {
        if (n === 0) continue;
        column = this.series.states[state] = new Array<number>(this.series.t.length).fill(0);
      }
      while (column.length <= i) column.push(0);
      column[i] = merging ? Math.max(column[i]!, n) : n;
    }
    this.pending = (this.pending + 1) % this.stride;
    if (this.series.t.length >= SERIES_CAP && this.pending === 0) this.halve();
  }

  private halve(): void {
    const keep = (arr: number[]) => arr.filter((_, i) => i % 2 === 0).map((v, k) => Math.max(v, arr[2 * k + 1] ?? v));
    this.series.t = this.series.t.filter((_, i) => i % 2 === 0);
    for (const state of Object.keys(this.series.states) as TcpStateName[])
      this.series.states[state] = keep(this.series.states[state]!);
    this.stride *= 2;
  }
}

export class Recorder {
  readonly hosts = new Map<string, HostRecord>();
  readonly latestStats = new Map<string, AnyActorStats>();
  private readonly out: WriteStream | undefined;
  /** Bytes of whole lines the file holds: where it is cut back to if a write fails (ENOSPC), so no line is torn. */
  private wholeBytes = 0;
  private failure: Error | undefined;

  /**
   * `samplesFile`: where every event is streamed (undefined: aggregate only, as when a killed run's samples are
   * replayed). `onError`: samples.ndjson could not be written (a full disk); the run should stop, its lab torn down.
   */
  constructor(
    private readonly samplesFile: string | undefined,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {
    // A new file only ('wx': O_EXCL, which also refuses a symlink planted in its place).
    this.out = samplesFile === undefined ? undefined : createWriteStream(samplesFile, { flags: 'wx' });
    this.out?.on('error', (err) => this.fail(err));
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = new OutputError(
      `cannot write ${this.samplesFile}: ${(err as NodeJS.ErrnoException).code ?? err.message}`,
      { cause: err },
    );
    try {
      if (this.samplesFile) truncateSync(this.samplesFile, this.wholeBytes);
    } catch {
      // the file is gone or read-only: nothing to cut back
    }
    this.onError(this.failure);
  }

  private write(event: AgentEvent): void {
    if (this.failure || !this.out) return;
    const line = `${JSON.stringify(event)}\n`;
    const bytes = Buffer.byteLength(line);
    this.out.write(line, (err) => {
      if (!err) this.wholeBytes += bytes;
    });
  }

  host(name: string): HostRecord {
    let rec = this.hosts.get(name);
    if (!rec) this.hosts.set(name, (rec = new HostRecord()));
    return rec;
  }

  onEvent(host: string, event: AgentEvent): void {
    if (event.type === 'sample') {
      this.host(host).add(event);
      this.write(event);
    } else if (event.type === 'stats') {
      this.latestStats.set(event.actor, event.stats);
      this.write(event);
    }
  }

  /** Flushes and closes samples.ndjson; rejects with the write failure, if there was one. */
  async close(): Promise<void> {
    const out = this.out;
    if (out && !out.closed) {
      out.end();
      await new Promise<void>((resolve) => out.once('close', resolve));
    }
    if (this.failure) throw this.failure;
  }
}
