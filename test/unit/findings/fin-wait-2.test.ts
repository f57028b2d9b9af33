import { describe, expect, it } from 'vitest';
import { finWait2Findings } from '../../../src/report/findings/fin-wait-2.ts';
import type { Report } from '../../../src/report/report.ts';
import { claimed, claimValue, host, loadReportFixture, runFindings, stats } from '../fixture.ts';

function loadWindow(report: Report) {
  const load = Object.values(report.scenario.plan.actors)
    .filter((a) => a.role === 'load')
    .map((a) => stats(report, a.name));
  const startMs = Math.min(...load.map((s) => Number(s['startedAtMs'])));
  const endMs = Math.max(...load.map((s) => Number(s['startedAtMs']) + Number(s['durationMs'])));
  return { startMs, endMs };
}

describe('finWait2Findings', () => {
  it("close-wait-leak: the client's orphaned FIN_WAIT_2 all ended after tcp_fin_timeout, as Little's law predicts", () => {
    const report = loadReportFixture('close-wait-leak');
    const client = host(report, 'client');
    const w = loadWindow(report);
    const out = runFindings(finWait2Findings, report);
    expect(out.map((f) => [f.rule, f.host, f.peers])).toEqual([['fin-wait-2', 'client', []]]);
    expect(claimValue(out, 'client', 'statePeak', 'FIN_WAIT2')).toBe(client.peak.total.FIN_WAIT2);
    expect(claimValue(out, 'client', 'stateFinal', 'FIN_WAIT2')).toBe(0);
    // The scenario's finTimeout=2.
    expect(claimValue(out, 'client', 'sysctl', 'net.ipv4.tcp_fin_timeout')).toBe(2);
    const since = client.series.t.at(-1)! - w.endMs;
    expect(since).toBeGreaterThan(2000);
    expect(claimValue(out, 'client', 'sampledAfterLoadMs')).toBe(since);
    const killed = client.counters.delta['TcpExt.TWKilled']!;
    const perSecond = (killed + client.counters.delta['TcpExt.TW']!) / ((w.endMs - w.startMs) / 1000);
    expect(claimValue(out, 'client', 'orphanRate')).toBeCloseTo(perSecond, 6);
    expect(claimValue(out, 'client', 'orphansExpected')).toBeCloseTo(perSecond * 2, 6);
    expect(claimValue(out, 'client', 'counter', 'TcpExt.TWKilled')).toBe(killed);
  });

  it('fin-wait-2: orphans on host server (timewait minisockets in sockstat tw), fd still open on host shutserver', () => {
    const report = loadReportFixture('fin-wait-2');
    const out = runFindings(finWait2Findings, report);
    expect(out.map((f) => f.host)).toEqual(['server', 'shutserver']);
    const server = host(report, 'server');
    expect(claimValue(out, 'server', 'statePeak', 'TIME_WAIT')).toBe(0);
    expect(claimValue(out, 'server', 'sockstatTwPeak')).toBe(server.peak.sockstatTw);
    expect(server.peak.sockstatTw).toBeGreaterThanOrEqual(server.peak.total.FIN_WAIT2);
    const shut = host(report, 'shutserver');
    expect(claimValue(out, 'shutserver', 'stateFinal', 'FIN_WAIT2')).toBe(shut.final.FIN_WAIT2);
    expect(shut.final.FIN_WAIT2).toBeGreaterThan(0);
    expect(claimValue(out, 'shutserver', 'sampledAfterLoadMs')).toBe(shut.series.t.at(-1)! - loadWindow(report).endMs);
    expect(
      claimed(
        out.filter((f) => f.host === 'shutserver'),
        'orphanRate',
      ),
    ).toEqual([]);
  });

  it('says nothing about FIN_WAIT_2 caught in passing, or none', () => {
    for (const name of ['short-conn', 'server-close', 'rst-close']) {
      const report = loadReportFixture(name);
      for (const h of Object.values(report.hosts))
        expect(h.peak.total.FIN_WAIT2 < 10 && h.final.FIN_WAIT2 === 0).toBe(true);
      expect(runFindings(finWait2Findings, report)).toEqual([]);
    }
  });

  it('says nothing of a crowd of FIN_WAIT_2 that all ended while no peer held CLOSE_WAIT: each waited for a FIN that came', () => {
    const busy = loadReportFixture('short-conn');
    host(busy, 'client').peak.total.FIN_WAIT2 = 14;
    expect(runFindings(finWait2Findings, busy)).toEqual([]);
    // A peer that held CLOSE_WAIT makes the same crowd a finding: its FIN was late or never came.
    host(busy, 'server').peak.total.CLOSE_WAIT = 20;
    expect(runFindings(finWait2Findings, busy).map((f) => f.host)).toEqual(['client']);
  });

  it('reacts to the fixture: a longer tcp_fin_timeout, TcpExt.TW without sockstat tw', () => {
    const long = loadReportFixture('close-wait-leak');
    host(long, 'client').sysctls['net.ipv4.tcp_fin_timeout'] = '60';
    const l = runFindings(finWait2Findings, long);
    expect(claimValue(l, 'client', 'sysctl', 'net.ipv4.tcp_fin_timeout')).toBe(60);
    expect(claimed(l, 'orphanRate')).toEqual([]);

    const late = loadReportFixture('close-wait-leak');
    const h = host(late, 'client');
    h.counters.delta['TcpExt.TW'] = 5;
    h.peak.sockstatTw = 0;
    const out = runFindings(finWait2Findings, late);
    expect(claimValue(out, 'client', 'counter', 'TcpExt.TW')).toBe(5);
    expect(claimValue(out, 'client', 'sockstatTwPeak')).toBe(0);
  });
});
