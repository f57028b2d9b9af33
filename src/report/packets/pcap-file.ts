// The classic pcap format, as `tcpdump -w` writes it: a 24-byte file header, then per frame a 16-byte record
// header (seconds, micro- or nanoseconds, captured length, original length) and the captured bytes. Read here
// down to each frame's TCP segment, for the link types a Linux capture gives: Ethernet (an interface), Linux
// cooked v1 and v2 (`-i any`: SLL2 since libpcap 1.10) and raw IP. pcapng (`tcpdump --pcapng`) is refused.
import { InvalidValueError } from '../../core/errors.ts';

export const PCAP_FILE_HEADER_BYTES = 24;
export const PCAP_RECORD_HEADER_BYTES = 16;

export const LINK_TYPE = { ethernet: 1, raw: 101, linuxSll: 113, linuxSll2: 276 } as const;

const MAGIC_MICROSECONDS = 0xa1b2c3d4;
const MAGIC_NANOSECONDS = 0xa1b23c4d;
const PCAPNG_SECTION = 0x0a0d0d0a;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = [0x8100, 0x88a8];
const IP_PROTOCOL_TCP = 6;
/** IPv6 extension headers that may sit between the fixed header and TCP: hop-by-hop, routing, destination options. */
const IPV6_SKIPPABLE = new Set([0, 43, 60]);

export const TCP_FLAG = { fin: 0x01, syn: 0x02, rst: 0x04, psh: 0x08, ack: 0x10 } as const;

export interface PcapHeader {
  readonly littleEndian: boolean;
  readonly nanoseconds: boolean;
  readonly snaplen: number;
  readonly linkType: number;
}

export interface TcpSegment {
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly flags: number;
  readonly seq: number;
  readonly ack: number;
  /** Payload bytes the segment carried on the wire (from the IP length: a short snaplen keeps fewer). */
  readonly payloadBytes: number;
  /** The payload bytes the capture kept. */
  readonly payloadHead: Uint8Array;
}

export interface Frame {
  /** 1 for the first frame of the file, as tcpdump -# and Wireshark number them. */
  readonly number: number;
  /** Microseconds since the epoch: an integer, exact in a double until the year 2255. */
  readonly timeUs: number;
  readonly capturedBytes: number;
  readonly originalBytes: number;
  /** Absent for anything that is not TCP over IPv4 or IPv6 (ARP, ICMP, a fragment), or was cut before the TCP header. */
  readonly tcp?: TcpSegment;
}

export function readPcapHeader(bytes: Uint8Array): PcapHeader {
  if (bytes.length < PCAP_FILE_HEADER_BYTES)
    throw new InvalidValueError(`not a pcap file: ${bytes.length} bytes, shorter than its 24-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const big = view.getUint32(0, false);
  if (big === PCAPNG_SECTION)
    throw new InvalidValueError('a pcapng file: only the classic pcap format (tcpdump -w without --pcapng) is read');
  const little = view.getUint32(0, true);
  const littleEndian = little === MAGIC_MICROSECONDS || little === MAGIC_NANOSECONDS;
  const magic = littleEndian ? little : big;
  if (magic !== MAGIC_MICROSECONDS && magic !== MAGIC_NANOSECONDS)
    throw new InvalidValueError(`not a pcap file: magic number 0x${big.toString(16).padStart(8, '0')}`);
  return {
    littleEndian,
    nanoseconds: magic === MAGIC_NANOSECONDS,
    snaplen: view.getUint32(16, littleEndian),
    linkType: view.getUint32(20, littleEndian) & 0x0fffffff,
  };
}

/** The length of the record starting at `offset` (its header and captured bytes), or undefined where the bytes end first. */
export function recordLength(header: PcapHeader, bytes: Uint8Array, offset: number): number | undefined {
  if (offset + PCAP_RECORD_HEADER_BYTES > bytes.length) return undefined;
  const captured = new DataView(bytes.buffer, bytes.byteOffset + offset, PCAP_RECORD_HEADER_BYTES).getUint32(
    8,
    header.littleEndian,
  );
  const length = PCAP_RECORD_HEADER_BYTES + captured;
  return offset + length <= bytes.length ? length : undefined;
}

/** Every whole frame of the file, in order; a last record cut short (a capture killed mid-write) ends the list. */
export function* pcapFrames(bytes: Uint8Array): Generator<Frame> {
  const header = readPcapHeader(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = PCAP_FILE_HEADER_BYTES;
  for (let number = 1; ; number++) {
    const length = recordLength(header, bytes, offset);
    if (length === undefined) return;
    const seconds = view.getUint32(offset, header.littleEndian);
    const fraction = view.getUint32(offset + 4, header.littleEndian);
    const capturedBytes = length - PCAP_RECORD_HEADER_BYTES;
    const originalBytes = view.getUint32(offset + 12, header.littleEndian);
    const data = bytes.subarray(offset + PCAP_RECORD_HEADER_BYTES, offset + length);
    const tcp = tcpOfFrame(header.linkType, data);
    yield {
      number,
      timeUs: seconds * 1_000_000 + (header.nanoseconds ? Math.floor(fraction / 1000) : fraction),
      capturedBytes,
      originalBytes,
      ...(tcp ? { tcp } : {}),
    };
    offset += length;
  }
}

function tcpOfFrame(linkType: number, data: Uint8Array): TcpSegment | undefined {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let etherType: number;
  let at: number;
  if (linkType === LINK_TYPE.ethernet) {
    if (data.length < 14) return undefined;
    etherType = view.getUint16(12);
    at = 14;
    while (ETHERTYPE_VLAN.includes(etherType) && data.length >= at + 4) {
      etherType = view.getUint16(at + 2);
      at += 4;
    }
  } else if (linkType === LINK_TYPE.linuxSll) {
    if (data.length < 16) return undefined;
    etherType = view.getUint16(14);
    at = 16;
  } else if (linkType === LINK_TYPE.linuxSll2) {
    if (data.length < 20) return undefined;
    etherType = view.getUint16(0);
    at = 20;
  } else if (linkType === LINK_TYPE.raw) {
    if (data.length < 1) return undefined;
    etherType = data[0]! >> 4 === 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4;
    at = 0;
  } else {
    throw new InvalidValueError(
      `pcap link type ${linkType} is not read here (Ethernet, Linux cooked v1/v2 and raw IP are)`,
    );
  }
  if (etherType === ETHERTYPE_IPV4) return tcpOfIpv4(data, view, at);
  if (etherType === ETHERTYPE_IPV6) return tcpOfIpv6(data, view, at);
  return undefined;
}

function tcpOfIpv4(data: Uint8Array, view: DataView, at: number): TcpSegment | undefined {
  if (data.length < at + 20 || data[at]! >> 4 !== 4) return undefined;
  const headerBytes = (data[at]! & 0x0f) * 4;
  const totalBytes = view.getUint16(at + 2);
  // A fragment other than the first carries no TCP header of its own.
  if (data[at + 9] !== IP_PROTOCOL_TCP || (view.getUint16(at + 6) & 0x1fff) !== 0) return undefined;
  const address = `${data[at + 12]}.${data[at + 13]}.${data[at + 14]}.${data[at + 15]}`;
  const peer = `${data[at + 16]}.${data[at + 17]}.${data[at + 18]}.${data[at + 19]}`;
  return tcpSegment(data, view, at + headerBytes, totalBytes - headerBytes, address, peer);
}

function tcpOfIpv6(data: Uint8Array, view: DataView, at: number): TcpSegment | undefined {
  if (data.length < at + 40 || data[at]! >> 4 !== 6) return undefined;
  let next = data[at + 6]!;
  let payloadBytes = view.getUint16(at + 4);
  const src = ipv6Text(data.subarray(at + 8, at + 24));
  const dst = ipv6Text(data.subarray(at + 24, at + 40));
  let offset = at + 40;
  while (IPV6_SKIPPABLE.has(next)) {
    if (data.length < offset + 2) return undefined;
    const length = (data[offset + 1]! + 1) * 8;
    next = data[offset]!;
    offset += length;
    payloadBytes -= length;
  }
  if (next !== IP_PROTOCOL_TCP) return undefined;
  return tcpSegment(data, view, offset, payloadBytes, src, dst);
}

function tcpSegment(
  data: Uint8Array,
  view: DataView,
  at: number,
  ipPayloadBytes: number,
  src: string,
  dst: string,
): TcpSegment | undefined {
  if (data.length < at + 20) return undefined;
  const headerBytes = (data[at + 12]! >> 4) * 4;
  return {
    src,
    srcPort: view.getUint16(at),
    dst,
    dstPort: view.getUint16(at + 2),
    seq: view.getUint32(at + 4),
    ack: view.getUint32(at + 8),
    flags: data[at + 13]!,
    payloadBytes: Math.max(0, ipPayloadBytes - headerBytes),
    payloadHead: data.subarray(Math.min(data.length, at + headerBytes)),
  };
}

/** RFC 5952 text: lower case, the longest run of two or more zero groups as "::". */
function ipv6Text(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestAt = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestAt, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestAt < 0) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLength).join(':')}`;
}
