import { describe, expect, it } from 'vitest';
import { proxyUpstreamFindings } from '../../../src/report/findings/proxy-upstream.ts';
import type { Report } from '../../../src/report/report.ts';
import { claimed, host, loadReportFixture, runFindings, stats } from '../fixture.ts';

/** What the fixture holds for the one upstream web1 on backend1, seen from both ends. */
function upstreamFacts(report: Report) {
  const proxy = host(report, 'proxy');
  const backend = host(report, 'backend1');
  const [u] = (report.scenario.plan.actors['proxy'] as unknown as { upstreams: { address: string; port: number }[] })
    .upstreams;
  const atProxy = proxy.peak.peers.ephemeral[`${u!.address}:${u!.port}`] ?? {};
  return { u: u!, proxy, backend, twProxy: atProxy.TIME_WAIT ?? 0, established: atProxy.ESTABLISHED ?? 0 };
}

/** Values of a claim (name, of), with the end it speaks for where it says. */
const values = (findings: ReturnType<typeof runFindings>, name: string, of?: string) =>
  claimed(findings, name as never, of).map((c) => c.value);
const byEnd = (findings: ReturnType<typeof runFindings>, name: string) =>
  Object.fromEntries(claimed(findings, name as never).map((c) => [c.claim.end ?? '-', c.value]));

describe('proxyUpstreamFindings', () => {
  it("proxy-short-upstream (nginx): upstream connections per request, the proxy's TIME_WAIT against its 1,000 ports, the log, the 502s", () => {
    const report = loadReportFixture('proxy-short-upstream');
    const proxy = stats(report, 'proxy');
    const opens = Number(proxy['hostActiveOpens']);
    const requests = Number(stats(report, 'flood')['connected']);
    const out = runFindings(proxyUpstreamFindings, report);
    expect(out.map((f) => [f.rule, f.host, f.peers])).toEqual([
      ['proxy-upstream', 'proxy', ['client', 'backend1']],
      ['proxy-upstream', 'proxy', ['backend1']],
      ['proxy-upstream', 'proxy', ['backend1']],
      ['proxy-upstream', 'proxy', ['client']],
    ]);
    const [perRequest, upstream, log, statuses] = out.map((f) => [f]) as [
      typeof out,
      typeof out,
      typeof out,
      typeof out,
    ];
    expect(values(perRequest, 'upstreamConnections')).toEqual([opens]);
    expect(values(perRequest, 'requests')).toEqual([requests]);
    expect(values(perRequest, 'connectionsPerRequest')).toEqual([opens / requests]);
    expect(opens).toBeLessThan(requests);

    // e) The census counted 1,005 toward the upstream; sockstat tw and TcpExt.TW say 1,000, and so does the claim.
    const f = upstreamFacts(report);
    expect(f.twProxy).toBe(1005);
    expect(byEnd(upstream, 'peerTimeWait')).toEqual({ client: 1000, server: 0 });
    expect(values(upstream, 'peerStatePeak', 'ESTABLISHED')).toEqual([f.established]);
    expect(claimed(upstream, 'firstCloses').map((c) => [c.claim.end, c.value])).toEqual([
      ['client', 1000],
      ['server', 0],
    ]);
    expect(claimed(upstream, 'firstCloseShare').map((c) => [c.claim.end, c.value])).toEqual([
      ['client', 1],
      ['server', 0],
    ]);
    // The scenario's proxyPorts 40000-40999.
    expect(values(upstream, 'portBudget')).toEqual([1000]);

    const errorLog = proxy['errorLog'];
    const [kind, count] = Object.entries(errorLog.kinds as Record<string, number>)[0]!;
    expect(kind).toContain('99: Cannot assign requested address');
    expect(values(log, 'logLines')).toEqual([errorLog.lines]);
    expect(values(log, 'logKind', kind)).toEqual([count]);
    expect(values(log, 'logCause', 'portsExhausted')).toEqual([errorLog.causes.portsExhausted]);
    expect(claimed(log, 'peerStatePeak').map((c) => [c.claim.of, c.value])).toEqual([
      ['TIME_WAIT', 1000],
      ['ESTABLISHED', 6],
      ['FIN_WAIT1', 3],
    ]);

    const got = stats(report, 'flood')['statuses'] as Record<string, number>;
    expect(values(statuses, 'statusCount', '502')).toEqual([got['502']]);
    expect(values(statuses, 'requests')).toEqual([requests]);
  });

  it('proxy-short-upstream with the built-in proxy: the same exhaustion in its log', () => {
    const report = loadReportFixture('proxy-short-upstream--builtin');
    expect(values(runFindings(proxyUpstreamFindings, report), 'logCause', 'portsExhausted')).toEqual([
      stats(report, 'proxy')['errorLog'].causes.portsExhausted,
    ]);
  });

  it("haproxy-short-upstream (http mode): one upstream connection per request, closed by the proxy's RSTs, no log, no 5xx", () => {
    const report = loadReportFixture('haproxy-short-upstream');
    const opens = Number(stats(report, 'proxy')['hostActiveOpens']);
    const d = host(report, 'proxy').counters.delta;
    const out = runFindings(proxyUpstreamFindings, report);
    expect(out).toHaveLength(2);
    expect(values(out, 'upstreamConnections')).toEqual([opens]);
    expect(byEnd(out, 'peerTimeWait')).toEqual({ client: 0, server: 0 });
    expect(d['Tcp.OutRsts']!).toBeGreaterThanOrEqual(opens / 2);
    expect(values(out, 'counter', 'Tcp.OutRsts')).toEqual([d['Tcp.OutRsts']]);
    expect(values(out, 'counter', 'TcpExt.TCPAbortOnData')).toEqual([d['TcpExt.TCPAbortOnData']]);
    expect(claimed(out, 'logLines')).toEqual([]);
    expect(claimed(out, 'statusCount')).toEqual([]);
  });

  it('haproxy-short-upstream with sourcePorts: its own source range as the budget, and TIME_WAIT taken over (TWRecycled)', () => {
    const report = loadReportFixture('haproxy-short-upstream--source-ports');
    const out = runFindings(proxyUpstreamFindings, report);
    const f = upstreamFacts(report);
    expect(f.twProxy).toBe(1007);
    expect(values(out, 'portBudget')).toEqual([1000]);
    expect(byEnd(out, 'peerTimeWait')['client']).toBe(1000);
    const recycled = f.proxy.counters.delta['TcpExt.TWRecycled']!;
    expect(recycled).toBeGreaterThan(0);
    expect(values(out, 'counter', 'TcpExt.TWRecycled')).toEqual([recycled]);
    expect(values(out, 'sysctl', 'net.ipv4.tcp_tw_reuse')).toEqual([0]);
  });

  it('proxy-keepalive-upstream and haproxy-keepalive-upstream: a pool, few opens per request, no TIME_WAIT, no log, no 5xx', () => {
    for (const name of ['proxy-keepalive-upstream', 'haproxy-keepalive-upstream']) {
      const report = loadReportFixture(name);
      const opens = Number(stats(report, 'proxy')['hostActiveOpens']);
      const out = runFindings(proxyUpstreamFindings, report);
      expect(out).toHaveLength(2);
      expect(values(out, 'planned', 'pool')).toEqual([report.scenario.plan.actors['proxy']!.options['keepAlive']]);
      expect(values(out, 'connectionsPerRequest')).toEqual([opens / 2000]);
      expect(byEnd(out, 'peerTimeWait')).toEqual({ client: 0, server: 0 });
    }
  });

  it('Why 7 (issue 21): a pool that carried 0.715 upstream connections per request is said to have kept few alive, and a mixed close in a pool is not said to follow each response', () => {
    const report = loadReportFixture('proxy-keepalive-upstream');
    stats(report, 'proxy')['hostActiveOpens'] = 1430;
    // Both ends counted first closes on the pool's connections: who closed first was mixed.
    host(report, 'proxy').counters.delta['TcpExt.TW'] = 700;
    host(report, 'backend1').counters.delta['TcpExt.TW'] = 730;
    const out = runFindings(proxyUpstreamFindings, report);
    expect(values(out, 'connectionsPerRequest')).toEqual([0.715]);
    expect(claimed(out, 'firstCloseShare').map((c) => c.value)).toEqual([700 / 1430, 730 / 1430]);
    const text = out.map((f) => f.text).join('\n');
    expect(text).not.toContain('carried many requests each');
    expect(text).not.toContain('both ends close as soon as the response is complete');
  });

  it('says nothing without a proxy actor', () => {
    for (const name of ['short-conn', 'nat-single-source', 'keepalive-vs-close'])
      expect(runFindings(proxyUpstreamFindings, loadReportFixture(name))).toEqual([]);
  });

  it("d) mixed (backendCloser=server): both kernels counted first closes, each end's share claimed", () => {
    // The run said "The proxy closed these connections first" from the peaks (882 against 256), while the backend's
    // TcpExt.TW rose 1,184 and the proxy's 880: new SYNs took over the backend's entries and kept its peak low.
    const report = loadReportFixture('proxy-short-upstream--backend-closer-server');
    const out = runFindings(proxyUpstreamFindings, report);
    expect(byEnd(out, 'peerTimeWait')).toEqual({ client: 880, server: 251 });
    expect(claimed(out, 'firstCloses').map((c) => [c.claim.end, c.value])).toEqual([
      ['client', 880],
      ['server', 1184],
    ]);
    expect(claimed(out, 'firstCloseShare').map((c) => [c.claim.end, c.value])).toEqual([
      ['client', 880 / 2064],
      ['server', 1184 / 2064],
    ]);
  });

  it("server closed: the upstream's counters alone, whatever the peaks", () => {
    const report = loadReportFixture('proxy-short-upstream--backend-closer-server');
    const f = upstreamFacts(report);
    f.proxy.counters.delta['TcpExt.TW'] = 0;
    f.proxy.peak.peers.ephemeral[`${f.u.address}:${f.u.port}`]!.TIME_WAIT = 0;
    f.proxy.peak.total.TIME_WAIT = 0;
    const out = runFindings(proxyUpstreamFindings, report);
    expect(byEnd(out, 'peerTimeWait')).toEqual({ client: 0, server: 251 });
    expect(claimed(out, 'firstCloseShare').map((c) => [c.claim.end, c.value])).toEqual([
      ['client', 0],
      ['server', 1],
    ]);
  });

  it('reacts to the fixture: no log lines, no 502', () => {
    const quiet = loadReportFixture('proxy-short-upstream');
    stats(quiet, 'proxy')['errorLog'].lines = 0;
    stats(quiet, 'flood')['statuses'] = { 200: stats(quiet, 'flood')['statuses']['200'] };
    const out = runFindings(proxyUpstreamFindings, quiet);
    expect(claimed(out, 'logLines')).toEqual([]);
    expect(claimed(out, 'statusCount')).toEqual([]);
  });
});
