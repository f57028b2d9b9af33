import { describe, expect, it } from 'vitest';
import { keepAliveFindings } from '../../../src/report/findings/keep-alive.ts';
import type { Report } from '../../../src/report/report.ts';
import { host, loadReportFixture, n, only, runRule, stats } from '../fixture.ts';

const side = (report: Report, actor: string, h: string) => {
  const requests = Number(stats(report, actor)['responses']);
  const opens = host(report, h).counters.delta['Tcp.ActiveOpens']!;
  return { requests, opens, per: (opens / requests).toFixed(opens < requests / 10 ? 4 : 2), tw: host(report, h).peak.total.TIME_WAIT };
};

describe('keepAliveFindings', () => {
  it('keepalive-vs-close: connections per request on each side, the RSTs at autocannon\'s end, and how many fewer', () => {
    const report = loadReportFixture('keepalive-vs-close');
    const on = side(report, 'keepalive', 'kaclient');
    const off = side(report, 'flood', 'client');
    const out = runRule(keepAliveFindings, report);
    expect(out).toHaveLength(4);
    expect(only(out, 'Host kaclient (actor keepalive')).toBe(`Host kaclient (actor keepalive, keep-alive): ${n(on.requests)} responses over ${n(on.opens)} new connections (Tcp.ActiveOpens +${n(on.opens)}), ${on.per} per request; TIME_WAIT peaked at ${n(on.tw)} on this host.`);
    expect(only(out, 'Host client (actor flood')).toBe(`Host client (actor flood, one connection per request): ${n(off.requests)} responses over ${n(off.opens)} new connections (Tcp.ActiveOpens +${n(off.opens)}), ${off.per} per request; TIME_WAIT peaked at ${n(off.tw)} on this host.`);
    const d = host(report, 'kaclient').counters.delta;
    expect(d['Tcp.OutRsts']!).toBeGreaterThan(0);
    expect(only(out, 'ended its kept-alive connections with RST')).toContain(`(Tcp.OutRsts +${n(d['Tcp.OutRsts']!)}; TcpExt.TCPAbortOnClose +${n(d['TcpExt.TCPAbortOnClose'] ?? 0)}, TCPAbortOnData +${n(d['TcpExt.TCPAbortOnData'] ?? 0)})`);
    expect(only(out, 'At about the same request rate')).toContain(`keep-alive opened ${n(Math.round(off.opens / on.opens))}x fewer connections (${n(on.opens)} against ${n(off.opens)}).`);
  });

  it('keepalive-vs-close with the server closing: the per-request side holds no TIME_WAIT itself', () => {
    const report = loadReportFixture('keepalive-vs-close--off-closer-server');
    expect(host(report, 'client').peak.total.TIME_WAIT).toBe(0);
    expect(only(runRule(keepAliveFindings, report), 'Host client (actor flood')).toContain('TIME_WAIT peaked at 0 on this host.');
  });

  it('says nothing without a keepalive-client', () => {
    for (const name of ['short-conn', 'proxy-keepalive-upstream', 'server-close']) expect(runRule(keepAliveFindings, loadReportFixture(name))).toEqual([]);
  });

  it('reacts to the fixture: no RSTs on the keep-alive host, no connections opened by it', () => {
    const clean = loadReportFixture('keepalive-vs-close');
    host(clean, 'kaclient').counters.delta['Tcp.OutRsts'] = 0;
    const out = runRule(keepAliveFindings, clean);
    expect(out.some((s) => s.includes('ended its kept-alive connections with RST'))).toBe(false);
    expect(out).toHaveLength(3);

    const none = loadReportFixture('keepalive-vs-close');
    host(none, 'kaclient').counters.delta['Tcp.ActiveOpens'] = 0;
    expect(runRule(keepAliveFindings, none).some((s) => s.startsWith('At about the same request rate'))).toBe(false);
  });
});
