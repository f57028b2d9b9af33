// Per-host sampler: runs inside the host's network namespace (in its agent), so /proc/net/* is that host's.
import { parseCounterPairs, parseSockstat, pickKeyCounters, type Counters, type Sockstat } from './kernel-counters.ts';
import { PROC_NET } from './proc-file.ts';
import { TcpCensusTaker, type TcpCensus } from './proc-net-tcp.ts';

/**
 * When a sample's time is taken: once its last read returned. Everything a sample holds was read at or before
 * its t, so a sample stamped before an event (the flood's start) cannot hold what that event caused.
 */
export const SAMPLE_STAMP = 'reads-ended' as const;

export interface Sample {
  /** ms since the run's zero, when the sample's last read returned (SAMPLE_STAMP). */
  readonly t: number;
  readonly tcp: Omit<TcpCensus, 'sockets' | 'repeats'>;
  readonly sockets: number;
  /** Rows the census dropped as a 4-tuple it had already counted in the same table read. */
  readonly repeats: number;
  readonly sockstat: Sockstat;
  /** The key TcpExt/Tcp counters, absolute. */
  readonly counters: Counters;
  /** Ticks skipped since the previous sample because a read took longer than the interval. */
  readonly skipped: number;
}

/** Every TcpExt and Tcp counter of the namespace this process runs in. */
export async function readCounters(): Promise<Counters> {
  const netstat = (await PROC_NET.netstat.read()).toString('latin1');
  const snmp = (await PROC_NET.snmp.read()).toString('latin1');
  return { ...parseCounterPairs(netstat, ['TcpExt']), ...parseCounterPairs(snmp, ['Tcp']) };
}

export class SocketSampler {
  private readonly census: TcpCensusTaker;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private inFlight: Promise<void> | undefined;
  private tick = 0;

  /** serverPorts: the ports this host's server actors listen on, so that their sockets count as the server side even after a listener is gone. */
  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number,
    private readonly emit: (sample: Sample) => void,
    serverPorts: Iterable<number> = [],
  ) {
    this.census = new TcpCensusTaker(serverPorts);
  }

  async sampleOnce(skipped = 0): Promise<Sample> {
    const [tcp4, tcp6, sockstat, counters] = await Promise.all([
      PROC_NET.tcp.read(),
      PROC_NET.tcp6.read(),
      PROC_NET.sockstat.read().then((b) => b.toString('latin1')),
      readCounters(),
    ]);
    const t = this.now();
    const { sockets, repeats, ...tcp } = this.census.take([
      { buf: tcp4, family: 4 },
      { buf: tcp6, family: 6 },
    ]);
    return { t, tcp, sockets, repeats, sockstat: parseSockstat(sockstat), counters: pickKeyCounters(counters), skipped };
  }

  /** Samples at t = 0, interval, 2*interval, ... of the run's clock; a late tick is skipped and counted, never queued. */
  start(): void {
    this.running = true;
    this.tick = Math.floor(this.now() / this.intervalMs);
    const loop = async () => {
      if (!this.running) return;
      const due = Math.floor(this.now() / this.intervalMs);
      const skipped = Math.max(0, due - this.tick - 1);
      this.tick = due;
      this.emit(await this.sampleOnce(skipped));
      if (!this.running) return;
      const next = (Math.floor(this.now() / this.intervalMs) + 1) * this.intervalMs;
      this.timer = setTimeout(() => void (this.inFlight = loop()), Math.max(0, next - this.now()));
    };
    this.inFlight = loop();
  }

  /** Stops the loop and emits one last sample, so the series ends at the moment of stopping. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.inFlight;
    this.emit(await this.sampleOnce());
  }
}
