// What one host's capture shows about its TCP connections, from the packets alone: per peer, which end sent the
// first FIN (the end whose kernel then holds TIME_WAIT, as TcpExt.TW counts it), and the resets; and data written
// on a connection whose peer had already sent its FIN, answered by an RST: the keep-alive race, a request on a
// reused connection that the server had just closed. Every count cites frames (numbered as tcpdump -# and
// Wireshark number them). Pure: frames in, a bounded summary out.
import { TCP_FLAG, type Frame, type TcpSegment } from './pcap-file.ts';

/** Examples kept per kind: report.json stays small whatever the capture holds. */
export const EXAMPLES_KEPT = 5;

export interface FrameRef {
  readonly frame: number;
  /** Milliseconds since the run started, to the microsecond. */
  readonly atMs: number;
}

/** Connections with one peer address, as the capturing host saw them. */
export interface PeerCloses {
  /** Connections seen, the capturing host as the end that sent the SYN (client) or answered it (server). */
  connections: number;
  asClient: number;
  asServer: number;
  /** Connections whose opening SYN the capture did not hold (opened before it started). */
  withoutSyn: number;
  /** This host's end sent its FIN before it had received the peer's. */
  localFirst: number;
  /** The peer's FIN came first, and this host's end answered it. */
  peerFirst: number;
  /** Both FINs were sent before either end had received the other's: both ends enter TIME_WAIT. */
  both: number;
  /** No FIN from either end: reset, or still open when the capture stopped. */
  noFin: number;
  /** Connections that carried an RST (either end). */
  reset: number;
  /** The first FIN of the first few connections, as evidence: by which end, and where. */
  firstFins: readonly (FrameRef & { by: 'local' | 'peer' | 'both' })[];
}

export interface LateWrite extends FrameRef {
  /** ip:port of the writer and of the peer that had sent its FIN. */
  readonly from: string;
  readonly to: string;
  readonly bytes: number;
  /** The first line of the payload where it reads as an HTTP request line, printable ASCII only. */
  readonly request?: string;
  readonly fin: FrameRef;
  /** The writer's segment acknowledged the FIN: its kernel had received it before the write. Else the two crossed. */
  readonly afterFinReceived: boolean;
  readonly rst?: FrameRef;
}

export interface PacketEvidence {
  frames: number;
  tcpFrames: number;
  /** Connections between two other hosts (a gateway forwarding): not this host's, so not counted below. */
  forwarded: number;
  /** Peer address -> its connections with this host. */
  byPeer: Record<string, PeerCloses>;
  /** Data segments sent after the peer's FIN (the peer had not received them when it closed). */
  lateWrites: {
    count: number;
    /** Of which the peer answered with an RST: the request met a closed socket. */
    answeredByRst: number;
    /** Of those answered by RST, the writes made after the writer's kernel had received the FIN (the others crossed it). */
    afterFinReceived: number;
    /** The first few, those answered by RST first. */
    examples: LateWrite[];
  };
}

interface EndState {
  fin?: { ref: FrameRef; seq: number; ack: number };
  /** The last data segment this end sent: a FIN of the other end that arrives later may have crossed it. */
  lastData?: { ref: FrameRef; seq: number; ack: number; bytes: number; head: Uint8Array; counted: boolean };
  /** The sequence number of the last write counted as late. */
  countedSeq?: number;
}

interface Connection {
  /** The endpoint that sent the SYN; undefined where the capture began after it. */
  client?: string;
  clientIsn?: number;
  ends: Map<string, EndState>;
  reset: boolean;
  pending: LateWrite[];
}

const SEQ_SPACE = 2 ** 32;
/** a <= b in sequence space (RFC 1982 style, 32-bit wrap). */
const seqLe = (a: number, b: number) => (b - a + SEQ_SPACE) % SEQ_SPACE < SEQ_SPACE / 2;

const endpoint = (address: string, port: number) =>
  address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
const addressOf = (end: string) =>
  end.startsWith('[') ? end.slice(1, end.indexOf(']')) : end.slice(0, end.lastIndexOf(':'));

/** The request line of an HTTP request's first bytes, printable ASCII only; undefined for anything else. */
export function requestLine(head: Uint8Array): string | undefined {
  let line = '';
  for (const byte of head.subarray(0, 120)) {
    if (byte === 0x0d || byte === 0x0a) break;
    if (byte < 0x20 || byte > 0x7e) return undefined;
    line += String.fromCharCode(byte);
  }
  return /^[A-Z]{3,7} \S/.test(line) ? line : undefined;
}

export class PacketEvidenceBuilder {
  private readonly connections = new Map<string, Connection>();
  private readonly local: ReadonlySet<string>;
  private readonly summary: PacketEvidence = {
    frames: 0,
    tcpFrames: 0,
    forwarded: 0,
    byPeer: {},
    lateWrites: { count: 0, answeredByRst: 0, afterFinReceived: 0, examples: [] },
  };

  /** `localAddresses`: the capturing host's own addresses (loopback is always its own); `runStartUs`: the run's start, µs since the epoch. */
  constructor(
    localAddresses: readonly string[],
    private readonly runStartUs: number,
  ) {
    this.local = new Set([...localAddresses, '127.0.0.1', '::1']);
  }

  add(frame: Frame): void {
    this.summary.frames++;
    const tcp = frame.tcp;
    if (!tcp) return;
    this.summary.tcpFrames++;
    const ref: FrameRef = { frame: frame.number, atMs: (frame.timeUs - this.runStartUs) / 1000 };
    const from = endpoint(tcp.src, tcp.srcPort);
    const to = endpoint(tcp.dst, tcp.dstPort);
    const key = from < to ? `${from} ${to}` : `${to} ${from}`;
    let conn = this.connections.get(key);
    const opening = (tcp.flags & (TCP_FLAG.syn | TCP_FLAG.ack)) === TCP_FLAG.syn;
    // A new SYN on a 4-tuple whose connection ended (or with another ISN) opens a new connection: a SYN may take
    // over a TIME_WAIT entry of the same 4-tuple (RFC 6191), so ports repeat within one capture.
    if (conn && opening && (conn.client !== from || conn.clientIsn !== tcp.seq)) {
      this.close(conn);
      conn = undefined;
    }
    if (!conn) {
      conn = {
        ends: new Map([
          [from, {}],
          [to, {}],
        ]),
        reset: false,
        pending: [],
        ...(opening ? { client: from, clientIsn: tcp.seq } : {}),
      };
      this.connections.set(key, conn);
    }
    this.segment(conn, tcp, from, to, ref);
  }

  private segment(conn: Connection, tcp: TcpSegment, from: string, to: string, ref: FrameRef): void {
    const mine = conn.ends.get(from)!;
    const theirs = conn.ends.get(to)!;
    if (tcp.flags & TCP_FLAG.rst) {
      conn.reset = true;
      conn.pending = conn.pending.map((late) => (late.from === to && !late.rst ? { ...late, rst: ref } : late));
      return;
    }
    // A retransmission of data already counted is the same write.
    if (tcp.payloadBytes > 0 && mine.countedSeq !== tcp.seq) {
      mine.lastData = {
        ref,
        seq: tcp.seq,
        ack: tcp.ack,
        bytes: tcp.payloadBytes,
        head: tcp.payloadHead.slice(0, 120),
        counted: false,
      };
      // The peer's FIN did not acknowledge this data: the peer closed before it arrived.
      if (theirs.fin && seqLe(theirs.fin.ack, tcp.seq)) this.lateWrite(conn, from, to, mine, theirs);
    }
    if (tcp.flags & TCP_FLAG.fin && !mine.fin) {
      mine.fin = { ref, seq: (tcp.seq + tcp.payloadBytes) % SEQ_SPACE, ack: tcp.ack };
      // Data of the other end captured before this FIN, that this FIN does not acknowledge, crossed it.
      if (theirs.lastData && !theirs.lastData.counted && seqLe(tcp.ack, theirs.lastData.seq))
        this.lateWrite(conn, to, from, theirs, mine);
    }
  }

  private lateWrite(conn: Connection, writer: string, closer: string, w: EndState, c: EndState): void {
    const data = w.lastData!;
    data.counted = true;
    w.countedSeq = data.seq;
    const fin = c.fin!;
    const request = requestLine(data.head);
    conn.pending.push({
      ...data.ref,
      from: writer,
      to: closer,
      bytes: data.bytes,
      ...(request ? { request } : {}),
      fin: fin.ref,
      afterFinReceived: seqLe((fin.seq + 1) % SEQ_SPACE, data.ack),
    });
  }

  private close(conn: Connection): void {
    const [a, b] = [...conn.ends.keys()] as [string, string];
    const localA = this.local.has(addressOf(a));
    const localB = this.local.has(addressOf(b));
    const late = this.summary.lateWrites;
    for (const w of conn.pending) {
      late.count++;
      if (w.rst) late.answeredByRst++;
      if (w.rst && w.afterFinReceived) late.afterFinReceived++;
      late.examples.push(w);
    }
    if (conn.pending.length)
      late.examples = late.examples
        .sort((x, y) => Number(!x.rst) - Number(!y.rst) || x.frame - y.frame)
        .slice(0, EXAMPLES_KEPT);
    if (!localA && !localB) {
      this.summary.forwarded++;
      return;
    }
    const [me, peer] = localA ? [a, b] : [b, a];
    const tally = (this.summary.byPeer[addressOf(peer)] ??= {
      connections: 0,
      asClient: 0,
      asServer: 0,
      withoutSyn: 0,
      localFirst: 0,
      peerFirst: 0,
      both: 0,
      noFin: 0,
      reset: 0,
      firstFins: [],
    });
    tally.connections++;
    if (conn.client === undefined) tally.withoutSyn++;
    else if (conn.client === me) tally.asClient++;
    else tally.asServer++;
    if (conn.reset) tally.reset++;
    const first = firstFin(conn.ends.get(me)!, conn.ends.get(peer)!);
    if (first === undefined) tally.noFin++;
    else {
      tally[first.by === 'local' ? 'localFirst' : first.by === 'peer' ? 'peerFirst' : 'both']++;
      if (tally.firstFins.length < EXAMPLES_KEPT)
        tally.firstFins = [...tally.firstFins, { ...first.ref, by: first.by }];
    }
  }

  /** The summary of every frame added; the builder is spent. */
  finish(): PacketEvidence {
    for (const conn of this.connections.values()) this.close(conn);
    this.connections.clear();
    return this.summary;
  }
}

/** Which end's FIN came first: a FIN that acknowledges the other's was sent after it was received. */
function firstFin(local: EndState, peer: EndState): { by: 'local' | 'peer' | 'both'; ref: FrameRef } | undefined {
  const [l, p] = [local.fin, peer.fin];
  if (!l && !p) return undefined;
  if (!p) return { by: 'local', ref: l!.ref };
  if (!l) return { by: 'peer', ref: p.ref };
  const localAckedPeer = seqLe((p.seq + 1) % SEQ_SPACE, l.ack);
  const peerAckedLocal = seqLe((l.seq + 1) % SEQ_SPACE, p.ack);
  if (localAckedPeer && !peerAckedLocal) return { by: 'peer', ref: p.ref };
  if (peerAckedLocal && !localAckedPeer) return { by: 'local', ref: l.ref };
  return { by: 'both', ref: l.ref.frame < p.ref.frame ? l.ref : p.ref };
}

export function packetEvidence(
  frames: Iterable<Frame>,
  localAddresses: readonly string[],
  runStartUs: number,
): PacketEvidence {
  const builder = new PacketEvidenceBuilder(localAddresses, runStartUs);
  for (const frame of frames) builder.add(frame);
  return builder.finish();
}
