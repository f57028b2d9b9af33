import { describe, expect, it } from 'vitest';
import { keepAliveFindings } from '../../../src/report/findings/keep-alive.ts';
import type { Report } from '../../../src/report/report.ts';
import { citing, claimed, claimValue, host, loadReportFixture, runFindings, stats } from '../fixture.ts';

const side = (report: Report, actor: string, h: string) => ({
  requests: Number(stats(report, actor)['responses']),
  opens: host(report, h).counters.delta['Tcp.ActiveOpens']!,
  tw: host(report, h).peak.total.TIME_WAIT,
});

describe('keepAliveFindings', () => {
  it("keepalive-vs-close: connections per request on each side, the RSTs at autocannon's end, and how many fewer", () => {
    const report = loadReportFixture('keepalive-vs-close');
    const on = side(report, 'keepalive', 'kaclient');
    const off = side(report, 'flood', 'client');
    const out = runFindings(keepAliveFindings, report);
    expect(out.map((f) => [f.host, f.peers]).sort()).toEqual([
      ['client', ['server']],
      ['kaclient', ['server']],
      ['kaclient', ['server']],
      ['kaclient', ['server']],
    ]);
    for (const [actor, s] of [
      ['keepalive', on],
      ['flood', off],
    ] as const) {
      const [f] = citing(out, actor);
      const value = (name: string) => f!.claims.filter((c) => c.name === name).map((c) => c.value);
      expect(value('responses')).toEqual([s.requests]);
      expect(value('connectionsPerRequest')).toEqual([s.opens / s.requests]);
      expect(value('timeWaitPeak')).toEqual([s.tw]);
    }
    const d = host(report, 'kaclient').counters.delta;
    expect(d['Tcp.OutRsts']!).toBeGreaterThan(0);
    expect(claimed(out, 'counter', 'Tcp.OutRsts').map((c) => c.value)).toEqual([d['Tcp.OutRsts']]);
    expect(claimed(out, 'counter', 'TcpExt.TCPAbortOnClose').map((c) => c.value)).toEqual([
      d['TcpExt.TCPAbortOnClose'] ?? 0,
    ]);
    expect(claimed(out, 'connectionsRatio').map((c) => c.value)).toEqual([off.opens / on.opens]);
  });

  it('keepalive-vs-close with the server closing: the per-request side holds no TIME_WAIT itself', () => {
    const report = loadReportFixture('keepalive-vs-close--off-closer-server');
    expect(host(report, 'client').peak.total.TIME_WAIT).toBe(0);
    expect(
      claimValue(
        runFindings(keepAliveFindings, report).filter((f) => f.host === 'client'),
        'client',
        'timeWaitPeak',
      ),
    ).toBe(0);
  });

  it('says nothing without a keepalive-client', () => {
    for (const name of ['short-conn', 'proxy-keepalive-upstream', 'server-close'])
      expect(runFindings(keepAliveFindings, loadReportFixture(name))).toEqual([]);
  });

  it('reacts to the fixture: no RSTs on the keep-alive host, no connections opened by it', () => {
    const clean = loadReportFixture('keepalive-vs-close');
    host(clean, 'kaclient').counters.delta['Tcp.OutRsts'] = 0;
    const out = runFindings(keepAliveFindings, clean);
    expect(claimed(out, 'counter', 'Tcp.OutRsts')).toEqual([]);
    expect(out).toHaveLength(3);

    const none = loadReportFixture('keepalive-vs-close');
    host(none, 'kaclient').counters.delta['Tcp.ActiveOpens'] = 0;
    expect(claimed(runFindings(keepAliveFindings, none), 'connectionsRatio')).toEqual([]);
  });
});
