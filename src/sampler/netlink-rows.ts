// Rows from netlink sock_diag dumps: struct inet_diag_msg records (include/uapi/linux/inet_diag.h), fixed size:
//   0 idiag_family  1 idiag_state  4 id.idiag_sport (be16)  6 id.idiag_dport (be16)
//   8 id.idiag_src[16]  24 id.idiag_dst[16] (network order; an IPv4 address fills the first 4 bytes)  68 idiag_inode
// Request sockets are listed in state SYN_RECV, as /proc/net/tcp prints them.
import { endianness } from 'node:os';
import { ALL_TCP_STATES, type SockDiagSocket } from './sock-diag.ts';
import type { RowSource, SocketRow } from './socket-rows.ts';
import { ipv6OfBytes } from '../core/ipv6.ts';

const LITTLE_ENDIAN = endianness() === 'LE';
const AF_INET6 = 10;

/** The IPv4 address of a 16-byte address field (an IPv4-mapped one for AF_INET6), or -1 for another IPv6 address. */
function v4At(buf: Buffer, at: number, family: 4 | 6): number {
  if (family === 4) return buf.readUInt32BE(at);
  return buf.readUInt32BE(at) === 0 && buf.readUInt32BE(at + 4) === 0 && buf.readUInt32BE(at + 8) === 0xffff
    ? buf.readUInt32BE(at + 12)
    : -1;
}

/** Rows counted between two yields to the event loop: the sampler's tick must not wait for a whole 100k-row census. */
const ROWS_PER_SLICE = 8192;

/** Calls onRow for records from..to (of `size` bytes each, at the start of buf); returns to - from. */
export function scanDiagRecords(
  buf: Buffer,
  to: number,
  size: number,
  onRow: (row: Readonly<SocketRow>) => void,
  from = 0,
): number {
  const row = {
    state: 0,
    localPort: 0,
    remotePort: 0,
    remoteV4: -1,
    remoteV6: '',
    localV4: -1,
    tupleStart: 0,
    tupleEnd: 0,
    inode: 0,
    family: 4 as 4 | 6,
    buf,
  };
  for (let i = from; i < to; i++) {
    const at = i * size;
    row.family = buf[at] === AF_INET6 ? 6 : 4;
    row.state = buf[at + 1]!;
    row.localPort = buf.readUInt16BE(at + 4);
    row.remotePort = buf.readUInt16BE(at + 6);
    row.localV4 = v4At(buf, at + 8, row.family);
    row.remoteV4 = v4At(buf, at + 24, row.family);
    row.remoteV6 = row.remoteV4 < 0 ? ipv6OfBytes(buf, at + 24) : '';
    row.tupleStart = at + 4;
    row.tupleEnd = at + 40;
    row.inode = LITTLE_ENDIAN ? buf.readUInt32LE(at + 68) : buf.readUInt32BE(at + 68);
    onRow(row);
  }
  return to - from;
}

export class NetlinkRows implements RowSource {
  readonly name = 'netlink';

  constructor(
    private readonly socket: SockDiagSocket,
    private readonly states = ALL_TCP_STATES,
  ) {}

  async scan(onRow: (row: Readonly<SocketRow>) => void): Promise<number> {
    let n = 0;
    for (const family of [4, 6] as const) {
      const { buf, rows } = await this.socket.dump(family, this.states);
      for (let from = 0; from < rows; from += ROWS_PER_SLICE) {
        // No other dump overwrites buf meanwhile: the sampler takes one census at a time, and only a census dumps.
        if (from > 0) await new Promise<void>((resolve) => setImmediate(resolve));
        n += scanDiagRecords(buf, Math.min(rows, from + ROWS_PER_SLICE), this.socket.recordSize, onRow, from);
      }
    }
    return n;
  }
}
