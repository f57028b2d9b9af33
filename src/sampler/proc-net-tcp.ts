// A byte-level reader of /proc/net/tcp and /proc/net/tcp6. The sampler reads these every 100 ms, with
// up to 100k+ sockets, so it walks the buffer in place: no split, no per-row string or object.
//
// Row layout (net/ipv4/tcp_ipv4.c, get_tcp4_sock): "%4d: %08X:%04X %08X:%04X %02X ..." ; tcp6 prints
// each address as 32 hex digits. Offsets below are relative to the space after "sl:".
import { STATE_COUNT, TCP_LISTEN, stateName, type StateCounts } from './tcp-states.ts';

function hexAt(buf: Buffer, start: number, len: number): number {
  let n = 0;
  for (let i = start; i < start + len; i++) {
    const c = buf[i]!;
    n = n * 16 + (c <= 57 ? c - 48 : (c | 32) - 87);
  }
  return n;
}

/** Calls onRow(state, localPort, remotePort) for every socket row; returns the number of rows. */
export function scanProcNetTcp(buf: Buffer, family: 4 | 6, onRow: (state: number, localPort: number, remotePort: number) => void): number {
  const addrLen = family === 4 ? 8 : 32;
  let pos = buf.indexOf(10); // skip the header line
  let rows = 0;
  while (pos !== -1 && pos + 1 < buf.length) {
    const colon = buf.indexOf(58, pos + 1); // the ':' after "sl"
    if (colon === -1) break;
    const p = colon + 2;
    const stateAt = p + 2 * addrLen + 12;
    if (stateAt + 2 > buf.length) break;
    onRow(hexAt(buf, stateAt, 2), hexAt(buf, p + addrLen + 1, 4), hexAt(buf, p + 2 * addrLen + 7, 4));
    rows++;
    pos = buf.indexOf(10, stateAt + 2);
  }
  return rows;
}

export interface TcpCensus {
  /** Sockets whose local port is one this host listens on: the server side of its connections. */
  readonly listen: StateCounts;
  /** All other sockets: the client side, on ephemeral (or explicitly bound) ports. */
  readonly ephemeral: StateCounts;
  readonly total: StateCounts;
  readonly sockets: number;
}

/**
 * Counts every TCP state of IPv4 and IPv6 together, split by role. The split needs the set of listening
 * ports first, so rows are held in a scratch array that is reused between samples.
 */
export class TcpCensusTaker {
  private scratch = new Uint32Array(4096);
  private n = 0;
  private readonly listenPorts = new Uint8Array(65536);

  take(tables: readonly { buf: Buffer; family: 4 | 6 }[]): TcpCensus {
    this.n = 0;
    this.listenPorts.fill(0);
    const push = (state: number, localPort: number) => {
      if (this.n === this.scratch.length) {
        const bigger = new Uint32Array(this.scratch.length * 2);
        bigger.set(this.scratch);
        this.scratch = bigger;
      }
      if (state === TCP_LISTEN) this.listenPorts[localPort] = 1;
      this.scratch[this.n++] = (localPort << 8) | state;
    };
    for (const t of tables) scanProcNetTcp(t.buf, t.family, push);

    const listen = new Array<number>(STATE_COUNT).fill(0);
    const ephemeral = new Array<number>(STATE_COUNT).fill(0);
    for (let i = 0; i < this.n; i++) {
      const v = this.scratch[i]!;
      const state = v & 0xff;
      if (state >= STATE_COUNT) continue;
      if (this.listenPorts[v >>> 8]) listen[state]!++;
      else ephemeral[state]!++;
    }
    return {
      listen: toCounts(listen),
      ephemeral: toCounts(ephemeral),
      total: toCounts(listen.map((v, i) => v + ephemeral[i]!)),
      sockets: this.n,
    };
  }
}

function toCounts(byCode: readonly number[]): StateCounts {
  const out: StateCounts = {};
  for (let code = 1; code < byCode.length; code++) {
    const v = byCode[code]!;
    const name = stateName(code);
    if (v > 0 && name) out[name] = v;
  }
  return out;
}
