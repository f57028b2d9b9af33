// Per-host sampler: runs inside the host's network namespace (in its agent), so /proc/net/* and netlink are that host's.
// Every tick reads the cheap counters (sockstat, TcpExt, Tcp: a few ms at any socket count); the full census runs
// beside them as often as it can within its CPU budget (census-budget.ts): one at a time, started at a tick when none
// is running and the budget allows. A tick without one gets a sample without a census, and the report counts those.
import { performance } from 'node:perf_hooks';
import { FallbackRows, type CensusSourceChoice } from './census-source.ts';
import { readConntrack } from './conntrack-stats.ts';
import {
  KEY_COUNTER_SET,
  parseCounterPairs,
  parseSockstat,
  pickKeyCounters,
  type Counters,
  type Sockstat,
} from './kernel-counters.ts';
import { PROC_NET, procNetIn, type ProcNetFiles } from './proc-file.ts';
import type { TcpCensus } from './proc-net-tcp.ts';
import { CensusCounter, type CensusCounting } from './census-counter.ts';
import type { CensusSource } from './socket-rows.ts';
import { TickLoop } from './tick-loop.ts';
import { CensusBudget } from './census-budget.ts';
import { SAMPLER_STOP_MS } from '../core/defaults.ts';
import { numberText } from '../core/number-text.ts';

/**
 * When a sample's time is taken: once its last read returned. Everything a sample holds was read at or before
 * its t, so a sample stamped before an event (the flood's start) cannot hold what that event caused.
 */
export const SAMPLE_STAMP = 'reads-ended' as const;

export interface Sample {
  /** ms since the run's zero, when the sample's last read returned (SAMPLE_STAMP). */
  readonly t: number;
  /** The census, where one ended since the previous sample; absent where the last one was still running. */
  readonly tcp?: Omit<TcpCensus, 'sockets' | 'repeats'>;
  readonly sockets?: number;
  /** Rows the census dropped as a 4-tuple it had already counted in the same read. */
  readonly repeats?: number;
  /** Where the census came from and how long it took (ms), beside tcp. */
  readonly census?: { readonly source: CensusSource; readonly ms: number };
  readonly sockstat: Sockstat;
  /** The key TcpExt/Tcp counters, absolute. */
  readonly counters: Counters;
  /** Ticks skipped since the previous sample: not even the cheap counters could be read in time. */
  readonly skipped: number;
}

/**
 * Every TcpExt and Tcp counter of the namespace this process runs in, or of procNet's; with conntrack's too for a
 * host that forwards (such a host has an agent of its own, inside it).
 */
export async function readCounters(
  forwards = false,
  procNet: ProcNetFiles = PROC_NET,
  only?: ReadonlySet<string>,
): Promise<Counters> {
  const netstat = (await procNet.netstat.read()).toString('latin1');
  const snmp = (await procNet.snmp.read()).toString('latin1');
  return {
    ...parseCounterPairs(netstat, ['TcpExt'], only),
    ...parseCounterPairs(snmp, ['Tcp'], only),
    ...(forwards ? await readConntrack() : {}),
  };
}

type CensusPart = Pick<Sample, 'tcp' | 'sockets' | 'repeats' | 'census'>;

export class SocketSampler {
  private readonly counter: CensusCounter;
  private rows: Promise<FallbackRows> | undefined;
  private readonly loop: TickLoop;
  /** The host's /proc/net tables: this process's own, or those of the namespace it samples from outside. */
  readonly procNet: ProcNetFiles;
  /** The census running now, if one is. */
  private running: Promise<void> | undefined;
  /** A census that ended and is not yet in a sample. */
  private ended: CensusPart | undefined;
  /** Why the last census failed: thrown by the next tick, so no failure passes unseen. */
  private failure: unknown;
  /** A stop overran its time and threw: what was still running must not emit or start anything after. */
  private abandoned = false;
  /** The census in flight (its source) and when it began: named by a stop that overruns its time. */
  private runningCensus: { readonly source: string; readonly since: number } | undefined;
  private readonly budget = new CensusBudget();

  /**
   * serverPorts: the ports this host's server actors listen on, so that their sockets count as the server side
   * even after a listener is gone. forwards: the host routes for others, so each sample carries its conntrack counters.
   * ignoredPorts: local ports of the lab's own plumbing (an agent's TCP control port), left out of the census.
   * namespace: the lab host sampled, where this process runs outside it (an agent of many hosts).
   */
  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number,
    private readonly emit: (sample: Sample) => void,
    serverPorts: Iterable<number> = [],
    private readonly forwards = false,
    ignoredPorts: Iterable<number> = [],
    private readonly namespace?: string,
  ) {
    this.procNet = namespace === undefined ? PROC_NET : procNetIn(namespace);
    this.counter = new CensusCounter([...serverPorts], [...ignoredPorts], namespace);
    this.loop = new TickLoop(intervalMs, now, (_tick, skipped) => this.onTick(skipped));
  }

  private source(): Promise<FallbackRows> {
    return (this.rows ??= FallbackRows.open(this.namespace, this.procNet));
  }

  /** Where the last census was counted: in C (native/census.c) or in JavaScript. */
  get censusCounting(): CensusCounting {
    return this.counter.counting;
  }

  /** Which source the census uses, and why not netlink where it does not. */
  async censusSource(): Promise<CensusSourceChoice> {
    return (await this.source()).choice;
  }

  private startCensus(): Promise<void> {
    const started = performance.now();
    const run = (async () => {
      const rows = await this.source();
      this.runningCensus = { source: rows.name, since: started };
      const { census, source, cpuMs } = await this.counter.take(rows);
      const { sockets, repeats, ...tcp } = census;
      const ms = performance.now() - started;
      // The C census's own CPU time where known: its wall time includes the wait for libuv's pool, which an agent
      // of 100 hosts fills (a census of an empty host measured 330 ms from the call and allowed one every 3 s).
      this.budget.ended(started, cpuMs ?? ms);
      this.ended = { tcp, sockets, repeats, census: { source, ms: Math.round(ms * 10) / 10 } };
    })();
    this.running = run
      .catch((err: unknown) => void (this.failure = err))
      .finally(() => {
        this.running = undefined;
        this.runningCensus = undefined;
      });
    return this.running;
  }

  private async cheap(): Promise<Pick<Sample, 'sockstat' | 'counters'>> {
    const [sockstat, counters] = await Promise.all([
      this.procNet.sockstat.read().then((b) => parseSockstat(b.toString('latin1'))),
      readCounters(this.forwards, this.procNet, KEY_COUNTER_SET),
    ]);
    return { sockstat, counters: pickKeyCounters(counters) };
  }

  private take(cheap: Pick<Sample, 'sockstat' | 'counters'>, skipped: number): Sample {
    if (this.failure) throw this.failure;
    const census = this.ended ?? {};
    this.ended = undefined;
    return { t: this.now(), ...census, ...cheap, skipped };
  }

  /** One sample with a census of its own, whatever the time it takes. */
  async sampleOnce(skipped = 0): Promise<Sample> {
    await this.running;
    const [cheap] = await Promise.all([this.cheap(), this.startCensus()]);
    return this.take(cheap, skipped);
  }

  private async onTick(skipped: number): Promise<void> {
    const census = this.running || !this.budget.mayStart(performance.now()) ? undefined : this.startCensus();
    const cheap = await this.cheap();
    // A census started at this tick may end in time for this tick's sample: wait for it until the next tick is due.
    if (census)
      await untilOrTimeout(census, (Math.floor(this.now() / this.intervalMs) + 1) * this.intervalMs - this.now());
    this.emit(this.take(cheap, skipped));
  }

  /** Samples at t = 0, interval, 2*interval, ... of the run's clock; a late tick is skipped and counted, never queued. */
  start(): void {
    this.loop.start();
  }

  /**
   * Stops the loop and emits one last sample with a census of its own, so the series ends at the moment of stopping.
   * Throws if that takes longer than limitMs, naming what is still awaited: a census (on libuv's pool) that never
   * returns would otherwise hold the agent's answer until its controller gives up, with no word of where. A stop
   * given up on emits nothing later and starts no census.
   */
  async stop(limitMs: number = SAMPLER_STOP_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const overrun = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.abandoned = true;
        reject(this.stuck(limitMs));
      }, limitMs);
    });
    try {
      await Promise.race([this.stopNow(), overrun]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async stopNow(): Promise<void> {
    await this.loop.stop();
    await this.running;
    if (this.abandoned) return;
    const sample = await this.sampleOnce();
    if (!this.abandoned) this.emit(sample);
  }

  // Only a census can be awaited for long: the cheap counters are read in place (proc-file.ts), so a read that hung
  // would hold the whole event loop, this timer included.
  private stuck(limitMs: number): Error {
    const c = this.runningCensus;
    const what = c
      ? `it still waits on a census (${c.source}), begun ${numberText(Math.round(performance.now() - c.since))} ms before`
      : 'no census is running: a tick never ended';
    return Object.assign(new Error(`the sampler did not stop within ${numberText(limitMs)} ms: ${what}`), {
      code: 'SAMPLER_STUCK',
    });
  }
}

async function untilOrTimeout(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, ms))))]);
  clearTimeout(timer);
}
