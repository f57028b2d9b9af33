// The packets rule on a real run's report with captures made of pcaps built byte by byte: the race cites its
// frames, the first-FIN side is set beside the kernel's count, and each claim re-derives from report.json.
import { describe, expect, it } from 'vitest';
import { findingsWithClaims } from '../../../src/report/findings/index.ts';
import { packetFindings } from '../../../src/report/findings/packets.ts';
import { packetEvidence } from '../../../src/report/packets/packet-evidence.ts';
import { pcapFrames } from '../../../src/report/packets/pcap-file.ts';
import type { CaptureReport, Report } from '../../../src/report/report.ts';
import { contradictions } from '../../../src/report/truth-check.ts';
import { conversation, pcapBytes, type Segment, type Step } from '../../helpers/pcap-bytes.ts';
import { loadReportFixture, runRule } from '../fixture.ts';

const START_US = 1_700_000_000_000_000;
const CLIENT = '198.18.0.1';
const SERVER = '198.18.0.2';

/** A client-server exchange from `port`, 100 µs a step from `at` µs after the start. */
function exchange(port: number, steps: Step[], at: number): Segment[] {
  return conversation(
    { client: CLIENT, server: SERVER, port, isn: 1000 + port, atUs: START_US + at, stepUs: 100 },
    steps,
  );
}

const OPEN: Step[] = [
  ['c', 'S'],
  ['s', 'SA'],
  ['c', 'A'],
];
const clientCloses = (port: number, at: number) =>
  exchange(
    port,
    [
      ...OPEN,
      ['c', 'PA', 'GET / HTTP/1.1\r\n\r\n'],
      ['s', 'PA', 'HTTP/1.1 200 OK\r\n\r\n'],
      ['c', 'FA'],
      ['s', 'FA'],
      ['c', 'A'],
    ],
    at,
  );
const race = (port: number, at: number) =>
  exchange(
    port,
    [
      ...OPEN,
      ['c', 'PA', 'GET / HTTP/1.1\r\n\r\n'],
      ['s', 'PA', 'HTTP/1.1 200 OK\r\n\r\n'],
      ['s', 'FA'],
      ['c', 'A'],
      ['c', 'PA', 'POST /orders HTTP/1.1\r\n\r\n'],
      ['s', 'R'],
    ],
    at,
  );

function capture(host: string, address: string, segments: Segment[]): CaptureReport {
  const bytes = pcapBytes(segments);
  const evidence = packetEvidence(pcapFrames(bytes), [address], START_US);
  return {
    host,
    file: `${host}.pcap`,
    bytes: bytes.length,
    packets: evidence.frames,
    snaplen: 160,
    truncated: false,
    droppedByKernel: 0,
    evidence,
  };
}

/** short-conn's report with these captures and the client's first closes as its kernel counted them. */
function withCaptures(captures: CaptureReport[], clientTw: number): Report {
  const report = loadReportFixture('short-conn');
  report.hosts.client!.counters.delta = {
    ...report.hosts.client!.counters.delta,
    'TcpExt.TW': clientTw,
    'TcpExt.TWKilled': 0,
    'TcpExt.TCPTimeWaitOverflow': 0,
  };
  report.captures = captures;
  return { ...report, ...findingsWithClaims(report.scenario.plan, report) };
}

describe('packetFindings', () => {
  it('says nothing without captures', () => {
    expect(runRule(packetFindings, loadReportFixture('short-conn'))).toEqual([]);
  });

  it("sets the first-FIN side beside the kernel's count of first closes, and cites the first frame", () => {
    const report = withCaptures(
      [
        capture('client', CLIENT, [
          ...clientCloses(40000, 0),
          ...clientCloses(40002, 10_000),
          ...clientCloses(40004, 20_000),
        ]),
      ],
      3,
    );
    expect(runRule(packetFindings, report)).toEqual([
      "Host client's capture (client.pcap), which end sent the first FIN: with host server (198.18.0.2), 3 connections (3 opened by host client, 0 by the peer): first FIN 3 by host client, 0 by the peer; the first, frame 6 at 0.0005 s, sent by host client. Its kernel counted the same 3 first closes (TcpExt.TW +3): the packets and the counters agree.",
    ]);
    const packets = report.claims!.filter((c) => c.rule === 'packets');
    expect(packets.map((c) => c.claims.map((x) => [x.name, x.value]))).toEqual([
      [
        ['packetFirstFins', 3],
        ['firstCloses', 3],
      ],
    ]);
    expect(contradictions(report)).toEqual([]);
  });

  it('says where the packets and the counters differ', () => {
    const report = withCaptures([capture('client', CLIENT, clientCloses(40000, 0))], 5);
    expect(runRule(packetFindings, report)[0]).toContain(
      'Its kernel counted 5 first closes (TcpExt.TW +5), the packets show 1: the kernel counted closes the capture did not hold',
    );
  });

  it("cites the frames of a request written after the server's FIN and answered by RST", () => {
    const report = withCaptures(
      [capture('server', SERVER, [...race(40010, 0), ...clientCloses(40012, 10_000), ...race(40014, 20_000)])],
      1,
    );
    const [raceText, fins] = runRule(packetFindings, report);
    expect(raceText).toBe(
      "Host server's capture (server.pcap): 2 writes of data on a connection whose peer had already sent its FIN, answered by that peer's RST (each after the writer's own kernel had received that FIN): a request sent on a kept-alive connection the other end had just closed meets a closed socket, the keep-alive race. The first: frame 8 at 0.0007 s: \"POST /orders HTTP/1.1\" (25 bytes) on 198.18.0.1:40010 -> 198.18.0.2:8080 after the FIN of frame 6 (0.0005 s), answered by RST in frame 9 (0.0008 s). Also frames 25 (RST 26).",
    );
    expect(fins).toContain(
      'with host client (198.18.0.1), 3 connections (0 opened by host server, 3 by the peer): first FIN 2 by host server, 1 by the peer; 2 reset; the first, frame 6 at 0.0005 s, sent by host server.',
    );
    const claim = report.claims!.find((c) => c.rule === 'packets' && c.claims[0]!.name === 'lateWritesReset')!;
    expect(claim).toMatchObject({
      host: 'server',
      peers: ['client'],
      claims: [
        { value: 2, unit: 'segments', plus: [{ from: 'capture-frames', host: 'server', count: 'lateWritesReset' }] },
      ],
    });
    expect(contradictions(report)).toEqual([]);
  });

  it('is caught by the truth check when the capture summary no longer gives its numbers', () => {
    const report = withCaptures([capture('server', SERVER, race(40010, 0))], 1);
    report.captures![0]!.evidence!.lateWrites.answeredByRst = 0;
    expect(contradictions(report).map((c) => [c.claim, c.evidence])).toEqual([
      ['lateWritesReset 1 segments (host server, peers client)', 'its evidence gives 0'],
    ]);
    delete report.captures;
    expect(contradictions(report).map((c) => c.evidence)).toContain('the report has no packet evidence of host server');
  });
});
