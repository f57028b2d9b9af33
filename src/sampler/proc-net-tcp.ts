// A byte-level reader of /proc/net/tcp and /proc/net/tcp6. The sampler reads these every 100 ms, with
// up to 100k+ sockets, so it walks the buffer in place: no split, no per-row string or object.
//
// Row layout (net/ipv4/tcp_ipv4.c, get_tcp4_sock): "%4d: %08X:%04X %08X:%04X %02X ..." ; tcp6 prints
// each address as 32 hex digits. Addresses are the raw network-order words printed as host-order
// integers, so on a little-endian machine 127.0.0.1 reads "0100007F".
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { STATE_COUNT, TCP_LISTEN, stateName, type StateCounts } from './tcp-states.ts';
import type { SocketRow, TcpRow } from './socket-rows.ts';
import { endpointText, formatIpv6 } from '../core/ipv6.ts';

export type { TcpRow };
import { TupleIndex } from './tuple-index.ts';

const LITTLE_ENDIAN = endianness() === 'LE';

function hexAt(buf: Buffer, start: number, len: number): number {
  let n = 0;
  for (let i = start; i < start + len; i++) {
    const c = buf[i]!;
    n = n * 16 + (c <= 57 ? c - 48 : (c | 32) - 87);
  }
  return n;
}

/** One 32-bit word of an address as printed (host order) -> network-order value. */
function wordAt(buf: Buffer, start: number): number {
  const v = hexAt(buf, start, 8);
  return LITTLE_ENDIAN ? (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0 : v;
}

/** The IPv4 address printed at start (an IPv4-mapped one for tcp6), or -1 for another IPv6 address. */
function v4At(buf: Buffer, start: number, family: 4 | 6): number {
  if (family === 4) return wordAt(buf, start);
  return wordAt(buf, start) === 0 && wordAt(buf, start + 8) === 0 && wordAt(buf, start + 16) === 0xffff
    ? wordAt(buf, start + 24)
    : -1;
}

/** The IPv6 address printed at start (four words, each in host order) in RFC 5952 text. */
function v6At(buf: Buffer, start: number): string {
  const groups: number[] = [];
  for (let w = 0; w < 4; w++) {
    const word = wordAt(buf, start + w * 8);
    groups.push(word >>> 16, word & 0xffff);
  }
  return formatIpv6(groups);
}

/** Calls onRow for every socket row (the same object, refilled); returns the number of rows. */
export function scanProcNetTcp(buf: Buffer, family: 4 | 6, onRow: (row: Readonly<TcpRow>) => void): number {
  const addrLen = family === 4 ? 8 : 32;
  const row: TcpRow = {
    state: 0,
    localPort: 0,
    remotePort: 0,
    remoteV4: -1,
    remoteV6: '',
    localV4: -1,
    tupleStart: 0,
    tupleEnd: 0,
    inode: 0,
  };
  let pos = buf.indexOf(10); // skip the header line
  let rows = 0;
  while (pos !== -1 && pos + 1 < buf.length) {
    const colon = buf.indexOf(58, pos + 1); // the ':' after "sl"
    if (colon === -1) break;
    const p = colon + 2;
    const remote = p + addrLen + 6;
    const stateAt = p + 2 * addrLen + 12;
    if (stateAt + 2 > buf.length) break;
    row.state = hexAt(buf, stateAt, 2);
    row.localPort = hexAt(buf, p + addrLen + 1, 4);
    row.remotePort = hexAt(buf, remote + addrLen + 1, 4);
    row.tupleStart = p;
    row.tupleEnd = remote + addrLen + 5;
    row.remoteV4 = v4At(buf, remote, family);
    row.remoteV6 = row.remoteV4 < 0 ? v6At(buf, remote) : '';
    row.localV4 = v4At(buf, p, family);
    row.inode = inodeAfter(buf, stateAt + 2);
    onRow(row);
    rows++;
    pos = buf.indexOf(10, stateAt + 2);
  }
  return rows;
}

const SPACE = 32;

/** Skips " tx:rx tr:when retrnsmt" (fixed width) and the space-padded uid and timeout to read the inode, or 0 where the row is cut short. */
function inodeAfter(buf: Buffer, end: number): number {
  let i = end + 39;
  for (let field = 0; field < 3; field++) {
    while (i < buf.length && buf[i] === SPACE) i++;
    if (field === 2) break;
    while (i < buf.length && buf[i] !== SPACE && buf[i] !== 10) i++;
  }
  let n = 0;
  for (; i < buf.length; i++) {
    const c = buf[i]!;
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  return n;
}

export function formatV4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/** Counts per peer: on the ephemeral side by the remote ip:port (the server or upstream), on the listening side by remote ip (the client). */
export type PeerCounts = Record<string, StateCounts>;

export interface TcpCensus {
  /** Sockets whose local port is a server port of this host (planned, or seen listening during the run): the server side of its connections. */
  readonly listen: StateCounts;
  /** All other sockets: the client side, on ephemeral (or explicitly bound) ports. */
  readonly ephemeral: StateCounts;
  readonly total: StateCounts;
  /** Sockets counted: one per 4-tuple (LISTEN rows apart). */
  readonly sockets: number;
  /** Rows of a 4-tuple already seen in the same read of the table: dropped, the last state kept. */
  readonly repeats: number;
  readonly peers: { readonly listen: PeerCounts; readonly ephemeral: PeerCounts };
}

/** Peers kept per side and sample: the busiest ones. */
export const MAX_PEERS = 16;
const NON_V4_PEER = -1;

/**
 * Counts every TCP state of IPv4 and IPv6 together, split by role and by peer.
 *
 * One 4-tuple is counted once: a table is not a snapshot. seq_file hands /proc/net/tcp out one page per
 * read(), and each read resumes by position in the socket hash; a socket that moves meanwhile (ESTABLISHED ->
 * TIME_WAIT goes from the established chain to the timewait one) can be listed twice. The last row of a
 * 4-tuple wins, as the later state. (A socket can still be missed the same way: sockstat tw is the exact total.)
 *
 * A socket's role is what its local port was, not what it is at this read: a port is a server port when the
 * plan puts a server actor on it, or once it was seen listening in any read of this taker. A listener that
 * closed (a restart that failed with EADDRINUSE) leaves its accepted connections' TIME_WAIT on its port, and
 * those are still the server side.
 *
 * A port of `ignoredPorts` is the lab's own plumbing (an agent's control port, and the controller's connection to
 * it), not the scenario's: its sockets are left out of every count.
 */
export class TcpCensusTaker {
  private rows = new Uint32Array(4096);
  private remotes = new Float64Array(4096);
  /** IPv6 peers (not IPv4-mapped) by row, as "[addr]:port"; the rows of IPv4 peers hold stale entries, never read. */
  private remotes6: string[] = [];
  private n = 0;
  private repeats = 0;
  private readonly serverPorts = new Uint8Array(65536);
  private readonly ignoredPorts = new Uint8Array(65536);
  private readonly byV4Tuple = new TupleIndex();
  private readonly byTuple = new Map<string, number>();

  constructor(serverPorts: Iterable<number> = [], ignoredPorts: Iterable<number> = []) {
    for (const port of serverPorts) if (port > 0 && port < 65536) this.serverPorts[port] = 1;
    for (const port of ignoredPorts) if (port > 0 && port < 65536) this.ignoredPorts[port] = 1;
  }

  /** A census of /proc/net/tcp{,6} tables already read. */
  take(tables: readonly { buf: Buffer; family: 4 | 6 }[]): TcpCensus {
    this.begin();
    for (const t of tables) scanProcNetTcp(t.buf, t.family, (row) => this.add(row, t.family, t.buf));
    return this.finish();
  }

  /** A census of every row a source lists (netlink or /proc); a source that starts over (a failed dump) restarts the count. */
  async takeFrom(source: {
    scan(onRow: (row: Readonly<SocketRow>) => void, onRestart?: () => void): Promise<number>;
  }): Promise<TcpCensus> {
    this.begin();
    await source.scan(
      (row) => this.add(row, row.family, row.buf),
      () => this.begin(),
    );
    return this.finish();
  }

  private begin(): void {
    this.n = 0;
    this.repeats = 0;
    this.byTuple.clear();
    this.byV4Tuple.clear();
  }

  private add(row: Readonly<TcpRow>, family: 4 | 6, buf: Buffer): void {
    if (this.ignoredPorts[row.localPort] === 1) return;
    if (row.state === TCP_LISTEN) this.serverPorts[row.localPort] = 1;
    // LISTEN rows do not move between chains, and SO_REUSEPORT listeners share one tuple: each is its own socket.
    let i = this.n;
    if (row.state !== TCP_LISTEN) {
      const seen = this.rowOf(row, family, buf, i);
      if (seen >= 0) {
        i = seen;
        this.repeats++;
      }
    }
    if (i === this.n) {
      if (this.n === this.rows.length) this.grow();
      this.n++;
    }
    this.rows[i] = (row.localPort << 8) | row.state;
    // ip * 65536 + port stays below 2^53: exact in a double.
    this.remotes[i] = row.remoteV4 < 0 ? NON_V4_PEER : row.remoteV4 * 65536 + row.remotePort;
    if (row.remoteV4 < 0) this.remotes6[i] = endpointText(row.remoteV6, row.remotePort);
  }

  private finish(): TcpCensus {
    const repeats = this.repeats;
    const listen = new Array<number>(STATE_COUNT).fill(0);
    const ephemeral = new Array<number>(STATE_COUNT).fill(0);
    const listenPeers = new Map<number, number[]>();
    const ephemeralPeers = new Map<number, number[]>();
    const listenPeers6 = new Map<string, number[]>();
    const ephemeralPeers6 = new Map<string, number[]>();
    for (let i = 0; i < this.n; i++) {
      const v = this.rows[i]!;
      const state = v & 0xff;
      if (state >= STATE_COUNT || state === TCP_LISTEN) {
        if (state === TCP_LISTEN) listen[state]!++;
        continue;
      }
      const remote = this.remotes[i]!;
      const isListen = this.serverPorts[v >>> 8] === 1;
      (isListen ? listen : ephemeral)[state]!++;
      if (remote === NON_V4_PEER) {
        countPeer6(isListen ? listenPeers6 : ephemeralPeers6, isListen, this.remotes6[i]!, state);
        continue;
      }
      // Listening side: by client address only (its ports are many); ephemeral side: by ip:port.
      const key = isListen ? Math.floor(remote / 65536) * 65536 : remote;
      const peers = isListen ? listenPeers : ephemeralPeers;
      let counts = peers.get(key);
      if (!counts) peers.set(key, (counts = new Array<number>(STATE_COUNT).fill(0)));
      counts[state]!++;
    }
    this.byTuple.clear();
    return {
      listen: toCounts(listen),
      ephemeral: toCounts(ephemeral),
      total: toCounts(listen.map((v, i) => v + ephemeral[i]!)),
      sockets: this.n,
      repeats,
      peers: {
        listen: topPeers(listenPeers, false, listenPeers6),
        ephemeral: topPeers(ephemeralPeers, true, ephemeralPeers6),
      },
    };
  }

  /** The row already taken by this row's 4-tuple in this read, or -1 after recording `next` for it. */
  private rowOf(row: Readonly<TcpRow>, family: 4 | 6, buf: Buffer, next: number): number {
    // Each family lists only its own sockets (tcp4/AF_INET, tcp6/AF_INET6), so the two never share a socket.
    if (family === 4) return this.byV4Tuple.getOrSet(row.localV4, row.localPort, row.remoteV4, row.remotePort, next);
    const key = buf.toString('latin1', row.tupleStart, row.tupleEnd);
    const seen = this.byTuple.get(key);
    if (seen !== undefined) return seen;
    this.byTuple.set(key, next);
    return -1;
  }

  private grow(): void {
    const rows = new Uint32Array(this.rows.length * 2);
    rows.set(this.rows);
    const remotes = new Float64Array(this.remotes.length * 2);
    remotes.set(this.remotes);
    this.rows = rows;
    this.remotes = remotes;
  }
}

/** An IPv6 peer's count: on the listening side by its address alone, on the ephemeral side by "[addr]:port". */
function countPeer6(peers: Map<string, number[]>, isListen: boolean, endpoint: string, state: number): void {
  const key = isListen ? endpoint.slice(1, endpoint.lastIndexOf(']')) : endpoint;
  let counts = peers.get(key);
  if (!counts) peers.set(key, (counts = new Array<number>(STATE_COUNT).fill(0)));
  counts[state]!++;
}

/** The MAX_PEERS busiest peers, IPv4 (keys ip * 65536 + port, port 0 where !withPort) and IPv6 ("[addr]:port" or the address), ties in order of first appearance. */
export function topPeers(
  peers: Map<number, number[]>,
  withPort: boolean,
  peers6: Map<string, number[]> = new Map(),
): PeerCounts {
  const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);
  const named: [string, number[]][] = [...peers].map(([key, counts]) => {
    const ip = formatV4(Math.floor(key / 65536));
    return [withPort ? `${ip}:${key % 65536}` : ip, counts];
  });
  const out: PeerCounts = {};
  for (const [key, counts] of [...named, ...peers6].sort((a, b) => sum(b[1]) - sum(a[1])).slice(0, MAX_PEERS))
    out[key] = toCounts(counts);
  return out;
}

export function toCounts(byCode: readonly number[]): StateCounts {
  const out: StateCounts = {};
  for (let code = 1; code < byCode.length; code++) {
    const v = byCode[code]!;
    const name = stateName(code);
    if (v > 0 && name) out[name] = v;
  }
  return out;
}

/**
 * Every row of this namespace's /proc/net/tcp and tcp6, each file read whole once (one that cannot be read is
 * skipped): for an actor's one-off look at its own sockets, not for the census, which reads through proc-file.ts.
 */
export function scanOwnTcpTables(onRow: (row: Readonly<TcpRow>) => void): void {
  for (const [file, family] of [
    ['/proc/net/tcp', 4],
    ['/proc/net/tcp6', 6],
  ] as const) {
    let buf: Buffer;
    try {
      buf = readFileSync(file);
    } catch {
      continue;
    }
    scanProcNetTcp(buf, family, onRow);
  }
}
