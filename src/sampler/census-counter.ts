// Who counts a census: the addon in C (native-census.ts) where the census reads netlink and the addon has a
// census, else TcpCensusTaker in JavaScript over the source's rows (netlink records or /proc/net/tcp text).
// WAITLAB_CENSUS=netlink-js keeps the counting in JavaScript over netlink, to compare the two.
import type { FallbackRows } from './census-source.ts';
import { NativeCensus } from './native-census.ts';
import { TcpCensusTaker, type TcpCensus } from './proc-net-tcp.ts';
import type { CensusSource } from './socket-rows.ts';

export type CensusCounting = 'c' | 'js';

export class CensusCounter {
  /** Made at the first census counted in JavaScript: its tables are 150 KiB, and most hosts count in C. */
  private taker: TcpCensusTaker | undefined;
  /** undefined: not tried yet; null: not to be used (refused, failed, or asked not to). */
  private native: NativeCensus | null | undefined;
  /** Why the census is not counted in C, once it is not. */
  nativeRefused: string | undefined;

  /** namespace: a lab host counted from outside it (its census socket made inside it). */
  constructor(
    private readonly serverPorts: readonly number[] = [],
    private readonly ignoredPorts: readonly number[] = [],
    private readonly namespace?: string,
  ) {
    if (process.env['WAITLAB_CENSUS'] === 'netlink-js') {
      this.native = null;
      this.nativeRefused = 'WAITLAB_CENSUS=netlink-js';
    } else if (ignoredPorts.length) {
      // The addon counts every socket; leaving out an agent's TCP control port is done in JavaScript only.
      this.native = null;
      this.nativeRefused = `ports left out of the census (${ignoredPorts.join(', ')}: the agent's control connection)`;
    }
  }

  /** Where the last census was counted. */
  get counting(): CensusCounting {
    return this.native ? 'c' : 'js';
  }

  /** One census of the rows' namespace, the source it was read from, and its CPU time where C counted it. */
  async take(rows: FallbackRows): Promise<{ census: TcpCensus; source: CensusSource; cpuMs?: number }> {
    if (rows.name === 'netlink' && this.native !== null) {
      try {
        this.native ??= NativeCensus.open(this.serverPorts, this.namespace);
        const census = await this.native.take();
        return { census, source: 'netlink', cpuMs: this.native.lastCpuMs };
      } catch (err) {
        // The rows' own netlink dump decides next whether netlink still answers; the census stays in JavaScript.
        this.native?.close();
        this.native = null;
        const e = err as NodeJS.ErrnoException;
        this.nativeRefused = `${e.code ?? 'error'}: ${e.message}`;
      }
    }
    this.taker ??= new TcpCensusTaker(this.serverPorts, this.ignoredPorts);
    return { census: await this.taker.takeFrom(rows), source: rows.name };
  }
}
