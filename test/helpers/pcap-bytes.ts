// Builds pcap files byte by byte for the reader's unit tests: TCP segments over IPv4 or IPv6, framed as Linux
// cooked v2 (what `tcpdump -i any` writes) or Ethernet, in either byte order, micro- or nanosecond stamps.

export interface Segment {
  src: string;
  sport: number;
  dst: string;
  dport: number;
  flags: string; // any of S A F R P
  seq: number;
  ack?: number;
  payload?: string;
  /** Microseconds since the epoch. */
  timeUs: number;
}

export interface PcapOptions {
  link?: 'sll2' | 'ethernet';
  bigEndian?: boolean;
  nanoseconds?: boolean;
  snaplen?: number;
}

const FLAG_BITS: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10 };

function ipv4(address: string): number[] {
  return address.split('.').map(Number);
}

function ipv6(address: string): number[] {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right].map((g) => parseInt(g, 16));
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

function u16(n: number): number[] {
  return [(n >> 8) & 0xff, n & 0xff];
}

function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

function tcpHeader(s: Segment, payload: number[]): number[] {
  const flags = [...s.flags].reduce((a, f) => a | FLAG_BITS[f]!, 0);
  // 32 bytes: 20 fixed and 12 of options (NOP NOP timestamps), as Linux sends with timestamps on.
  const options = [1, 1, 8, 10, ...u32(1), ...u32(2)];
  return [
    ...u16(s.sport),
    ...u16(s.dport),
    ...u32(s.seq),
    ...u32(s.ack ?? 0),
    (32 / 4) << 4,
    flags,
    ...u16(64240),
    0,
    0,
    0,
    0,
    ...options,
    ...payload,
  ];
}

function packet(s: Segment): { etherType: number; bytes: number[] } {
  const payload = [...Buffer.from(s.payload ?? '', 'latin1')];
  const tcp = tcpHeader(s, payload);
  if (s.src.includes(':')) {
    return {
      etherType: 0x86dd,
      bytes: [0x60, 0, 0, 0, ...u16(tcp.length), 6, 64, ...ipv6(s.src), ...ipv6(s.dst), ...tcp],
    };
  }
  return {
    etherType: 0x0800,
    bytes: [0x45, 0, ...u16(20 + tcp.length), 0, 0, 0x40, 0, 64, 6, 0, 0, ...ipv4(s.src), ...ipv4(s.dst), ...tcp],
  };
}

function linkHeader(link: 'sll2' | 'ethernet', etherType: number): number[] {
  if (link === 'ethernet') return [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, ...u16(etherType)];
  // protocol, reserved, interface index, ARPHRD_ETHER, packet type, address length, 8 address bytes
  return [...u16(etherType), 0, 0, ...u32(2), ...u16(1), 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
}

export function pcapBytes(segments: readonly Segment[], options: PcapOptions = {}): Buffer {
  const link = options.link ?? 'sll2';
  const little = !options.bigEndian;
  const snaplen = options.snaplen ?? 262_144;
  const header = Buffer.alloc(24);
  const w32 = (b: Buffer, v: number, at: number) => (little ? b.writeUInt32LE(v, at) : b.writeUInt32BE(v, at));
  const w16 = (b: Buffer, v: number, at: number) => (little ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at));
  w32(header, options.nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(header, 2, 4);
  w16(header, 4, 6);
  w32(header, snaplen, 16);
  w32(header, link === 'sll2' ? 276 : 1, 20);
  const records = segments.map((s) => {
    const { etherType, bytes } = packet(s);
    const frame = [...linkHeader(link, etherType), ...bytes];
    const kept = frame.slice(0, snaplen);
    const record = Buffer.alloc(16);
    w32(record, Math.floor(s.timeUs / 1e6), 0);
    w32(record, (s.timeUs % 1e6) * (options.nanoseconds ? 1000 : 1), 4);
    w32(record, kept.length, 8);
    w32(record, frame.length, 12);
    return Buffer.concat([record, Buffer.from(kept)]);
  });
  return Buffer.concat([header, ...records]);
}

/** One step of a conversation: who sends (client or server), its flags, its payload. */
export type Step = [from: 'c' | 's', flags: string, payload?: string];

/**
 * A client-server conversation as segments: each end's sequence numbers advance by what it sends (SYN and FIN
 * count one), every ACK acknowledges all the other end sent so far; the server's ISN is the client's + 5000.
 */
export function conversation(
  o: { client: string; server: string; port: number; serverPort?: number; isn: number; atUs: number; stepUs: number },
  steps: readonly Step[],
): Segment[] {
  const next = { c: o.isn, s: o.isn + 5000 };
  const serverPort = o.serverPort ?? 8080;
  return steps.map(([from, flags, payload], i) => {
    const to = from === 'c' ? 's' : 'c';
    const seg: Segment = {
      src: from === 'c' ? o.client : o.server,
      sport: from === 'c' ? o.port : serverPort,
      dst: from === 'c' ? o.server : o.client,
      dport: from === 'c' ? serverPort : o.port,
      flags,
      seq: next[from],
      ack: flags.includes('A') ? next[to] : 0,
      payload,
      timeUs: o.atUs + i * o.stepUs,
    };
    next[from] = (next[from] + (payload?.length ?? 0) + (/[SF]/.test(flags) ? 1 : 0)) % 2 ** 32;
    return seg;
  });
}
