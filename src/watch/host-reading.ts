// One reading of the namespace this process runs in: its sockets, kernel counters, sockstat and the sysctls
// that decide port budgets and TIME_WAIT. Reads only: nothing here writes a file or opens a socket.
import { REPORTED_SYSCTLS, readSysctls } from '../agent/host-sysctls.ts';
import { parsePortRange, type PortRange } from '../core/units.ts';
import { parseSockstat, pickKeyCounters, type Counters, type Sockstat } from '../sampler/kernel-counters.ts';
import { PROC_NET } from '../sampler/proc-file.ts';
import { readCounters } from '../sampler/socket-sampler.ts';
import { SocketRowReader } from '../sampler/socket-row-reader.ts';
import { OWNED_STATES, takeCensus, type SocketCensus } from './socket-census.ts';

/** tcp_tw_recycle is read only to tell whether this kernel still has it (removed in Linux 4.12). */
const WATCHED_SYSCTLS = [...REPORTED_SYSCTLS, 'net.ipv4.tcp_tw_recycle'];

export interface HostReading {
  /** Monotonic ms (performance.now()), for rates. */
  readonly atMs: number;
  readonly at: string;
  readonly census: SocketCensus;
  readonly counters: Counters;
  readonly sockstat: Sockstat;
  readonly sysctls: Readonly<Record<string, string>>;
}

export class HostReader {
  private readonly rows = new SocketRowReader(OWNED_STATES);

  async read(): Promise<HostReading> {
    const sysctls = readSysctls(WATCHED_SYSCTLS);
    const [rows, counters, sockstat] = await Promise.all([
      this.rows.read(),
      readCounters(),
      PROC_NET.sockstat.read().then((b) => parseSockstat(b.toString('latin1'))),
    ]);
    const census = takeCensus(rows, portRangeOf(sysctls));
    return {
      atMs: performance.now(),
      at: new Date().toISOString(),
      census,
      counters: pickKeyCounters(counters),
      sockstat,
      sysctls,
    };
  }
}

function portRangeOf(sysctls: Record<string, string>): PortRange | undefined {
  const text = sysctls['net.ipv4.ip_local_port_range'];
  return text ? parsePortRange(text) : undefined;
}
