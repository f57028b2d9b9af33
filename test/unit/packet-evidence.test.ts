// The pcap reader and the packet evidence on captures built byte by byte: who sent the first FIN, resets, and
// data written after the peer's FIN and answered by RST, each with its frame numbers and times.
import { describe, expect, it } from 'vitest';
import { packetEvidence, requestLine } from '../../src/report/packets/packet-evidence.ts';
import { pcapFrames, readPcapHeader } from '../../src/report/packets/pcap-file.ts';
import { conversation as segments, pcapBytes, type Segment, type Step } from '../helpers/pcap-bytes.ts';

const START_US = 1_700_000_000_000_000;
const CLIENT = '198.18.0.1';
const SERVER = '198.18.0.2';

/** A connection's segments from client port `port`, 1 ms apart from `at` µs after the start. */
function conversation(port: number, isn: number, steps: Step[], at = 0): Segment[] {
  return segments({ client: CLIENT, server: SERVER, port, isn, atUs: START_US + at, stepUs: 1000 }, steps);
}

const HANDSHAKE: Step[] = [
  ['c', 'S'],
  ['s', 'SA'],
  ['c', 'A'],
];
const REQUEST: Step & [unknown, unknown, string] = ['c', 'PA', 'GET / HTTP/1.1\r\nHost: server\r\n\r\n'];
const RESPONSE: Step = ['s', 'PA', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'];

describe('pcap reader', () => {
  it('reads frames, their numbers, times and TCP segments in either byte order, with micro- or nanosecond stamps', () => {
    const segments = conversation(40000, 100, [...HANDSHAKE, REQUEST]);
    for (const options of [{}, { bigEndian: true }, { nanoseconds: true }, { link: 'ethernet' as const }]) {
      const frames = [...pcapFrames(pcapBytes(segments, options))];
      expect(frames.map((f) => f.number)).toEqual([1, 2, 3, 4]);
      expect(frames.map((f) => f.timeUs - START_US)).toEqual([0, 1000, 2000, 3000]);
      expect(frames[0]!.tcp).toMatchObject({
        src: CLIENT,
        srcPort: 40000,
        dst: SERVER,
        dstPort: 8080,
        flags: 0x02,
        seq: 100,
        payloadBytes: 0,
      });
      expect(frames[1]!.tcp).toMatchObject({ flags: 0x12, ack: 101 });
      expect(frames[3]!.tcp!.payloadBytes).toBe(REQUEST[2].length);
    }
  });

  it('reads IPv6 addresses in their short form', () => {
    const [frame] = pcapFrames(
      pcapBytes([
        { src: '2001:2::1', sport: 40000, dst: '2001:2::a:2', dport: 8080, flags: 'S', seq: 1, timeUs: START_US },
      ]),
    );
    expect(frame!.tcp).toMatchObject({ src: '2001:2::1', dst: '2001:2::a:2', srcPort: 40000 });
  });

  it('keeps the payload length of the wire when the snaplen cut the bytes, and ends at a record cut short', () => {
    const bytes = pcapBytes(conversation(40000, 100, [...HANDSHAKE, REQUEST]), { snaplen: 90 });
    expect(readPcapHeader(bytes)).toMatchObject({ snaplen: 90, linkType: 276, nanoseconds: false });
    const frames = [...pcapFrames(bytes)];
    expect(frames[3]!.tcp!.payloadBytes).toBe(REQUEST[2].length);
    // 20 (SLL2) + 20 (IPv4) + 32 (TCP) = 72: 18 bytes of the request kept.
    expect(frames[3]!.tcp!.payloadHead.length).toBe(18);
    expect([...pcapFrames(bytes.subarray(0, bytes.length - 5))]).toHaveLength(3);
  });

  it('refuses pcapng and what is no pcap at all', () => {
    expect(() => readPcapHeader(Buffer.concat([Buffer.from('0a0d0d0a', 'hex'), Buffer.alloc(20)]))).toThrow(/pcapng/);
    expect(() => readPcapHeader(Buffer.alloc(24))).toThrow(/not a pcap file/);
    expect(() => readPcapHeader(Buffer.alloc(10))).toThrow(/shorter than its 24-byte header/);
  });

  it('reads a request line only where the bytes are one', () => {
    expect(requestLine(Buffer.from('POST /orders HTTP/1.1\r\nHost: x\r\n'))).toBe('POST /orders HTTP/1.1');
    expect(requestLine(Buffer.from('HTTP/1.1 200 OK\r\n'))).toBeUndefined();
    expect(requestLine(Buffer.from('GET /\x1b[2J HTTP/1.1\r\n'))).toBeUndefined();
  });
});

describe('packet evidence', () => {
  it("says which end sent the first FIN, per peer, from either host's capture", () => {
    const clientFirst = conversation(40000, 100, [
      ...HANDSHAKE,
      REQUEST,
      RESPONSE,
      ['c', 'FA'],
      ['s', 'FA'],
      ['c', 'A'],
    ]);
    const serverFirst = conversation(
      40001,
      900,
      [...HANDSHAKE, REQUEST, RESPONSE, ['s', 'FA'], ['c', 'FA'], ['s', 'A']],
      20_000,
    );
    const frames = [...pcapFrames(pcapBytes([...clientFirst, ...serverFirst]))];
    const onClient = packetEvidence(frames, [CLIENT], START_US);
    expect(onClient.byPeer[SERVER]).toMatchObject({
      connections: 2,
      asClient: 2,
      asServer: 0,
      localFirst: 1,
      peerFirst: 1,
      both: 0,
      noFin: 0,
      reset: 0,
    });
    expect(onClient.byPeer[SERVER]!.firstFins).toEqual([
      { frame: 6, atMs: 5, by: 'local' },
      { frame: 14, atMs: 25, by: 'peer' },
    ]);
    const onServer = packetEvidence(frames, [SERVER], START_US);
    expect(onServer.byPeer[CLIENT]).toMatchObject({ connections: 2, asServer: 2, localFirst: 1, peerFirst: 1 });
    expect(onClient.lateWrites.count).toBe(0);
  });

  it('counts a close where both FINs crossed as both ends first', () => {
    const segs = conversation(40000, 100, [...HANDSHAKE, ['c', 'FA'], ['s', 'FA']]);
    // The server's FIN was sent before the client's arrived: it does not acknowledge it.
    segs[4]!.ack = 101;
    const evidence = packetEvidence(pcapFrames(pcapBytes(segs)), [CLIENT], START_US);
    expect(evidence.byPeer[SERVER]).toMatchObject({ both: 1, localFirst: 0, peerFirst: 0 });
  });

  it("finds a request written after the server's FIN was received, answered by RST, with its frames", () => {
    // Request 1 and its response, the server's idle close (FIN), the client's ACK of it, then request 2 on the
    // same connection, and the server's RST: the keep-alive race.
    const segs = conversation(40000, 100, [
      ...HANDSHAKE,
      REQUEST,
      RESPONSE,
      ['c', 'A'],
      ['s', 'FA'],
      ['c', 'A'],
      ['c', 'PA', 'POST /orders HTTP/1.1\r\n\r\n'],
      ['s', 'R'],
    ]);
    const evidence = packetEvidence(pcapFrames(pcapBytes(segs)), [CLIENT], START_US);
    expect(evidence.lateWrites).toEqual({
      count: 1,
      answeredByRst: 1,
      afterFinReceived: 1,
      examples: [
        {
          frame: 9,
          atMs: 8,
          from: `${CLIENT}:40000`,
          to: `${SERVER}:8080`,
          bytes: 25,
          request: 'POST /orders HTTP/1.1',
          fin: { frame: 7, atMs: 6 },
          afterFinReceived: true,
          rst: { frame: 10, atMs: 9 },
        },
      ],
    });
    expect(evidence.byPeer[SERVER]).toMatchObject({ peerFirst: 1, reset: 1 });
    // The server's capture holds the same frames, and says the same.
    expect(packetEvidence(pcapFrames(pcapBytes(segs)), [SERVER], START_US).lateWrites.examples[0]).toMatchObject({
      frame: 9,
      fin: { frame: 7 },
      rst: { frame: 10 },
    });
  });

  it('finds a request that crossed the FIN in flight: the FIN does not acknowledge it, and it does not acknowledge the FIN', () => {
    const segs = conversation(40000, 100, [
      ...HANDSHAKE,
      REQUEST,
      RESPONSE,
      ['c', 'A'],
      ['c', 'PA', 'GET /again HTTP/1.1\r\n\r\n'],
      ['s', 'FA'],
      ['s', 'R'],
    ]);
    // The client's capture: its request went out (frame 7) before the server's FIN (frame 8) arrived; the FIN's
    // ACK stops short of the request, since the server had not received it.
    segs[7]!.ack = segs[6]!.seq;
    const evidence = packetEvidence(pcapFrames(pcapBytes(segs)), [CLIENT], START_US);
    expect(evidence.lateWrites).toMatchObject({ count: 1, answeredByRst: 1, afterFinReceived: 0 });
    expect(evidence.lateWrites.examples[0]).toMatchObject({
      frame: 7,
      request: 'GET /again HTTP/1.1',
      fin: { frame: 8 },
      rst: { frame: 9 },
      afterFinReceived: false,
    });
  });

  it('counts a response to a half-closed client as a late write, not answered by RST', () => {
    const segs = conversation(40000, 100, [...HANDSHAKE, REQUEST, ['c', 'FA'], RESPONSE, ['s', 'FA'], ['c', 'A']]);
    // The response follows the client's FIN (a half-close: the client still reads), and nothing resets it.
    const evidence = packetEvidence(pcapFrames(pcapBytes(segs)), [CLIENT], START_US);
    expect(evidence.lateWrites).toMatchObject({ count: 1, answeredByRst: 0 });
    expect(evidence.byPeer[SERVER]).toMatchObject({ localFirst: 1, reset: 0 });
  });

  it('counts a retransmitted late write once', () => {
    const segs = conversation(40000, 100, [
      ...HANDSHAKE,
      REQUEST,
      RESPONSE,
      ['s', 'FA'],
      ['c', 'PA', 'GET /b HTTP/1.1\r\n\r\n'],
    ]);
    const retransmit = { ...segs[6]!, timeUs: segs[6]!.timeUs + 200_000 };
    const evidence = packetEvidence(pcapFrames(pcapBytes([...segs, retransmit])), [CLIENT], START_US);
    expect(evidence.lateWrites.count).toBe(1);
    expect(evidence.lateWrites.answeredByRst).toBe(0);
  });

  it('splits two connections of one 4-tuple: a new SYN after the first closed', () => {
    const first = conversation(40000, 100, [...HANDSHAKE, ['s', 'FA'], ['c', 'FA'], ['s', 'A']]);
    const second = conversation(40000, 70_000, [...HANDSHAKE, ['s', 'FA'], ['c', 'FA'], ['s', 'A']], 10_000);
    const evidence = packetEvidence(pcapFrames(pcapBytes([...first, ...second])), [SERVER], START_US);
    expect(evidence.byPeer[CLIENT]).toMatchObject({ connections: 2, asServer: 2, localFirst: 2 });
  });

  it('leaves out connections between two other hosts (a gateway forwarding them)', () => {
    const segs = conversation(40000, 100, [...HANDSHAKE, ['c', 'FA'], ['s', 'FA']]);
    const evidence = packetEvidence(pcapFrames(pcapBytes(segs)), ['198.18.1.1'], START_US);
    expect(evidence).toMatchObject({ frames: 5, tcpFrames: 5, forwarded: 1, byPeer: {} });
  });

  it('counts a connection whose SYN the capture missed apart', () => {
    const segs = conversation(40000, 100, [...HANDSHAKE, REQUEST, ['c', 'FA'], ['s', 'FA']]).slice(3);
    const evidence = packetEvidence(pcapFrames(pcapBytes(segs)), [CLIENT], START_US);
    expect(evidence.byPeer[SERVER]).toMatchObject({ connections: 1, withoutSyn: 1, asClient: 0, localFirst: 1 });
  });
});
