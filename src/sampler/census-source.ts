// Picks the census's row source: netlink sock_diag where the addon is built and the kernel answers a dump,
// else /proc/net/tcp, with the reason. A netlink dump that fails later turns the census to /proc for the rest of
// the run; the source of every census is in its sample, so a report never hides the switch.
import { NetlinkRows } from './netlink-rows.ts';
import { PROC_NET, type ProcNetFiles } from './proc-file.ts';
import { ProcRows } from './proc-rows.ts';
import { SockDiagSocket } from './sock-diag.ts';
import type { CensusSource, RowSource, SocketRow } from './socket-rows.ts';

export interface CensusSourceChoice {
  readonly source: CensusSource;
  /** Why netlink is not used, where it is not. */
  readonly refused?: string;
}

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code === 'MODULE_NOT_FOUND' || e.code === 'ERR_DLOPEN_FAILED'
    ? `the netlink addon is not built (${e.code}; npm's install step builds it with a C compiler)`
    : `${e.code ?? 'error'}: ${e.message}`;
}

/** Netlink first, /proc/net/tcp where netlink is refused (WAITLAB_CENSUS=proc asks for /proc, to compare the two). */
export class FallbackRows implements RowSource {
  private current: RowSource;
  refused: string | undefined;

  private constructor(
    netlink: RowSource | undefined,
    refused: string | undefined,
    private readonly procNet: ProcNetFiles = PROC_NET,
  ) {
    this.current = netlink ?? new ProcRows(procNet);
    this.refused = refused;
  }

  /**
   * Opens netlink and takes one dump of listeners to see that the kernel answers (ENOENT: no tcp_diag here).
   * namespace: a lab host this process serves from outside it; its /proc tables are then procNet.
   */
  static async open(namespace?: string, procNet: ProcNetFiles = PROC_NET): Promise<FallbackRows> {
    if (process.env['WAITLAB_CENSUS'] === 'proc') return new FallbackRows(undefined, 'WAITLAB_CENSUS=proc', procNet);
    let socket: SockDiagSocket | undefined;
    try {
      socket = SockDiagSocket.open(namespace);
      await socket.dump(4, 1 << 10);
      return new FallbackRows(new NetlinkRows(socket), undefined, procNet);
    } catch (err) {
      socket?.close();
      return new FallbackRows(undefined, reason(err), procNet);
    }
  }

  /** A census over the given netlink rows, turning to /proc if they fail. */
  static over(netlink: RowSource): FallbackRows {
    return new FallbackRows(netlink, undefined);
  }

  get name(): CensusSource {
    return this.current.name;
  }

  get choice(): CensusSourceChoice {
    return this.refused ? { source: this.current.name, refused: this.refused } : { source: this.current.name };
  }

  async scan(onRow: (row: Readonly<SocketRow>) => void, onRestart?: () => void): Promise<number> {
    try {
      return await this.current.scan(onRow);
    } catch (err) {
      if (this.current.name === 'proc') throw err;
      this.refused = `a netlink dump failed mid-run (${reason(err)})`;
      this.current = new ProcRows(this.procNet);
      onRestart?.();
      return this.current.scan(onRow);
    }
  }
}
