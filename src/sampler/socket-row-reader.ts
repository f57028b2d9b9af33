// One row per TCP socket of this namespace, for `waitlab watch` and `waitlab doctor`: the only place they read
// the socket table, from the census's own source (netlink sock_diag, else /proc/net/tcp{,6}), inodes included.
import { FallbackRows, type CensusSourceChoice } from './census-source.ts';
import { scanProcNetTcp, type TcpRow } from './proc-net-tcp.ts';
import { TCP_LISTEN } from './tcp-states.ts';
import { TupleIndex } from './tuple-index.ts';

/** Rows in parallel typed arrays (no object per socket), `count` of them valid. */
export interface SocketRows {
  count: number;
  state: Uint8Array;
  localPort: Uint16Array;
  remotePort: Uint16Array;
  /** IPv4 (or IPv4-mapped) addresses as network-order numbers; -1 for other IPv6 addresses. */
  localV4: Float64Array;
  remoteV4: Float64Array;
  /** Other IPv6 remote addresses in RFC 5952 text where remoteV4 is -1 ('' or stale elsewhere). */
  remoteV6: string[];
  /** The socket's inode, read only for the states asked for (0 elsewhere, and for sockets no fd holds). */
  inode: Float64Array;
  /** Rows dropped because their 4-tuple was already listed in the same read of the table. */
  repeats: number;
}

export class SocketRowReader {
  private rows: SocketRows = allocate(4096);
  private readonly byV4Tuple = new TupleIndex();
  private readonly byTuple = new Map<string, number>();
  private readonly wantInode = new Uint8Array(16);
  private source: Promise<FallbackRows> | undefined;

  /** inodeStates: the state codes whose owning process may be asked for (e.g. CLOSE_WAIT, FIN_WAIT2). */
  constructor(inodeStates: Iterable<number> = []) {
    for (const s of inodeStates) this.wantInode[s] = 1;
  }

  /** This namespace's sockets, from netlink sock_diag where it answers, else /proc/net/tcp{,6} (census-source.ts). The arrays are reused by the next read. */
  async read(): Promise<Readonly<SocketRows>> {
    const source = await (this.source ??= FallbackRows.open());
    this.reset();
    let family: 4 | 6 | undefined;
    await source.scan(
      (row) => {
        // Each family is its own table: a 4-tuple repeats only within one.
        if (row.family !== family) {
          family = row.family;
          this.byV4Tuple.clear();
          this.byTuple.clear();
        }
        this.add(row, row, row.inode);
      },
      // netlink failed mid-read and the source turned to /proc: start the rows again.
      () => {
        this.reset();
        family = undefined;
      },
    );
    this.byTuple.clear();
    return this.rows;
  }

  /** Which source the last read used, and why netlink was not, where it was not. */
  async sourceChoice(): Promise<CensusSourceChoice> {
    return (await (this.source ??= FallbackRows.open())).choice;
  }

  /** Rows of table texts as read, one per 4-tuple per table, the last row of a 4-tuple kept (the later state). */
  collect(tables: readonly { buf: Buffer; family: 4 | 6 }[]): Readonly<SocketRows> {
    this.reset();
    for (const t of tables) {
      // A table read is not a snapshot (seq_file resumes by position): a socket that moved chains meanwhile is
      // listed twice. tcp lists only AF_INET sockets and tcp6 only AF_INET6 ones, so each table is its own.
      this.byV4Tuple.clear();
      this.byTuple.clear();
      scanProcNetTcp(t.buf, t.family, (row) => this.add(row, t, row.inode));
    }
    this.byTuple.clear();
    return this.rows;
  }

  private reset(): void {
    this.rows.count = 0;
    this.rows.repeats = 0;
    this.byV4Tuple.clear();
    this.byTuple.clear();
  }

  private add(row: Readonly<TcpRow>, t: { buf: Buffer; family: 4 | 6 }, inode: number): void {
    let i = this.rows.count;
    if (row.state !== TCP_LISTEN) {
      const seen = this.seen(row, t, i);
      if (seen >= 0) {
        i = seen;
        this.rows.repeats++;
      }
    }
    if (i === this.rows.count) {
      if (i === this.rows.state.length) this.grow();
      this.rows.count++;
    }
    const rows = this.rows;
    rows.state[i] = row.state;
    rows.localPort[i] = row.localPort;
    rows.remotePort[i] = row.remotePort;
    rows.localV4[i] = row.localV4;
    rows.remoteV4[i] = row.remoteV4;
    if (row.remoteV4 < 0) rows.remoteV6[i] = row.remoteV6;
    rows.inode[i] = this.wantInode[row.state] === 1 ? inode : 0;
  }

  private seen(row: Readonly<TcpRow>, t: { buf: Buffer; family: 4 | 6 }, next: number): number {
    if (t.family === 4) return this.byV4Tuple.getOrSet(row.localV4, row.localPort, row.remoteV4, row.remotePort, next);
    const key = t.buf.toString('latin1', row.tupleStart, row.tupleEnd);
    const seen = this.byTuple.get(key);
    if (seen !== undefined) return seen;
    this.byTuple.set(key, next);
    return -1;
  }

  private grow(): void {
    const bigger = allocate(this.rows.state.length * 2);
    bigger.state.set(this.rows.state);
    bigger.localPort.set(this.rows.localPort);
    bigger.remotePort.set(this.rows.remotePort);
    bigger.localV4.set(this.rows.localV4);
    bigger.remoteV4.set(this.rows.remoteV4);
    bigger.remoteV6 = this.rows.remoteV6;
    bigger.inode.set(this.rows.inode);
    bigger.count = this.rows.count;
    bigger.repeats = this.rows.repeats;
    this.rows = bigger;
  }
}

function allocate(capacity: number): SocketRows {
  return {
    count: 0,
    state: new Uint8Array(capacity),
    localPort: new Uint16Array(capacity),
    remotePort: new Uint16Array(capacity),
    localV4: new Float64Array(capacity),
    remoteV4: new Float64Array(capacity),
    remoteV6: [],
    inode: new Float64Array(capacity),
    repeats: 0,
  };
}
