import { describe, expect, it } from 'vitest';
import { counterFindings } from '../../../src/report/findings/counters.ts';
import { claimed, claimValue, host, loadReportFixture, runFindings } from '../fixture.ts';

const KEYS_SEEN = [
  'TcpExt.TW',
  'TcpExt.TWRecycled',
  'TcpExt.TCPTimeWaitOverflow',
  'Tcp.ActiveOpens',
  'Tcp.PassiveOpens',
  'Tcp.OutRsts',
];

describe('counterFindings', () => {
  it("short-conn: each host's moved counters and its sockstat tw peak, claimed for the host as a whole", () => {
    const report = loadReportFixture('short-conn');
    const out = runFindings(counterFindings, report);
    expect(out.map((f) => [f.host, f.peers])).toEqual([
      ['client', []],
      ['server', []],
    ]);
    expect(claimValue(out, 'client', 'counter', 'TcpExt.TW')).toBe(1000);
    expect(claimValue(out, 'client', 'counter', 'Tcp.ActiveOpens')).toBe(1000);
    expect(claimValue(out, 'client', 'sockstatTwPeak')).toBe(host(report, 'client').peak.sockstatTw);
    expect(claimValue(out, 'server', 'counter', 'Tcp.PassiveOpens')).toBe(1000);
    // A key counter that did not move is not claimed.
    expect(claimed(out, 'counter', 'TcpExt.TW').map((c) => c.host)).toEqual(['client']);
    for (const c of claimed(out, 'counter')) expect(c.claim.peers).toEqual([]);
  });

  it('claims every key counter that moved, with its own delta, across fixtures', () => {
    for (const name of ['tw-bucket-overflow', 'haproxy-short-upstream--source-ports', 'rst-close']) {
      const report = loadReportFixture(name);
      const out = runFindings(counterFindings, report);
      for (const [h, hr] of Object.entries(report.hosts)) {
        for (const k of KEYS_SEEN.filter((k) => hr.counters.delta[k]))
          expect(claimValue(out, h, 'counter', k)).toBe(hr.counters.delta[k]);
      }
    }
  });

  it('reacts to the fixture: a host whose counters did not move gets no finding; a negative delta is claimed as it is', () => {
    const report = loadReportFixture('short-conn');
    const server = host(report, 'server');
    for (const k of Object.keys(server.counters.delta)) server.counters.delta[k] = 0;
    expect(runFindings(counterFindings, report).map((f) => f.host)).toEqual(['client']);

    const neg = loadReportFixture('short-conn');
    host(neg, 'client').counters.delta['TcpExt.TW'] = -3;
    expect(claimValue(runFindings(counterFindings, neg), 'client', 'counter', 'TcpExt.TW')).toBe(-3);
  });
});
