import { describe, expect, it } from 'vitest';
import { proxyUpstreamFindings } from '../../../src/report/findings/proxy-upstream.ts';
import type { Report } from '../../../src/report/report.ts';
import { host, loadReportFixture, n, only, pct, runRule, stats } from '../fixture.ts';

/** What the fixture holds for the one upstream web1 on backend1, seen from both ends. */
function upstreamFacts(report: Report) {
  const proxy = host(report, 'proxy');
  const backend = host(report, 'backend1');
  const [u] = (report.scenario.plan.actors['proxy'] as unknown as { upstreams: { address: string; port: number }[] }).upstreams;
  const atProxy = proxy.peak.peers.ephemeral[`${u!.address}:${u!.port}`] ?? {};
  const atBackend = backend.peak.peers.listen[proxy.address] ?? {};
  return { u: u!, proxy, backend, twProxy: atProxy.TIME_WAIT ?? 0, twBackend: atBackend.TIME_WAIT ?? 0, established: atProxy.ESTABLISHED ?? 0 };
}

describe('proxyUpstreamFindings', () => {
  it('proxy-short-upstream (nginx): upstream connections per request, the proxy\'s TIME_WAIT against its 1,000 ports, the log, the 502s', () => {
    const report = loadReportFixture('proxy-short-upstream');
    const proxy = stats(report, 'proxy');
    const opens = Number(proxy['hostActiveOpens']);
    const requests = Number(stats(report, 'flood')['connected']);
    const out = runRule(proxyUpstreamFindings, report);

    const a = only(out, 'Proxy proxy (');
    expect(a).toContain(`Proxy proxy (nginx ${proxy['version']}, upstream keep-alive off) opened ${n(opens)} upstream connections (Tcp.ActiveOpens on host proxy) for ${n(requests)} client requests: ${Math.round((opens / requests) * 1000) / 1000} per request.`);
    expect(opens).toBeLessThan(requests);
    expect(a).toContain(`the other ${n(requests - opens)} requests never got one.`);

    const f = upstreamFacts(report);
    const b = only(out, 'Upstream web1');
    // e) The census counted 1,005 toward the upstream; sockstat tw and TcpExt.TW say 1,000, and so does the sentence.
    expect(f.twProxy).toBe(1005);
    expect(f.proxy.peak.sockstatTw).toBe(1000);
    expect(b).toContain(`Upstream web1 (${f.u.address}:${f.u.port}): TIME_WAIT of its connections with the proxy peaked at 1,000 on host proxy and ${n(f.twBackend)} on host backend1 (all its ports from ${f.proxy.address}), ESTABLISHED at ${n(f.established)}.`);
    expect(b).toContain('Host proxy closed these connections first (first closes counted by each kernel: host proxy 1,000 (TcpExt.TW +1,000), host backend1 0 (TcpExt.TW +0)), so its host holds their TIME_WAIT for 60 s');
    // The scenario's proxyPorts 40000-40999.
    expect(b).toContain('That is 100% of its 1,000-port ip_local_port_range (40000-40999), the budget toward one upstream ip:port.');

    const log = proxy['errorLog'];
    const c = only(out, "The proxy's own log");
    const [kind, count] = Object.entries(log.kinds as Record<string, number>)[0]!;
    expect(c).toContain(`The proxy's own log (nginx ${proxy['version']}) has ${n(log.lines)} error lines: "${kind}" ${n(count)} times.`);
    expect(kind).toContain('99: Cannot assign requested address');
    expect(c).toContain(`By cause: connect() toward an upstream found no free local port (EADDRNOTAVAIL) (${n(log.causes.portsExhausted)}).`);
    expect(c).toContain('Every local port toward 198.18.0.3:8080 was held by a TIME_WAIT socket of an earlier upstream connection (per-peer census on host proxy: TIME_WAIT 1,000, ESTABLISHED 6, FIN_WAIT1 3), and tcp_tw_reuse=0 on host proxy forbids reusing them.');
    expect(c).toContain('What would change it: upstream keep-alive');

    const statuses = stats(report, 'flood')['statuses'] as Record<string, number>;
    expect(only(out, 'Clients of proxy proxy')).toBe(`Clients of proxy proxy got ${n(statuses['502']!)} × 502 out of ${n(requests)} responses.`);
    expect(out).toHaveLength(4);
  });

  it('proxy-short-upstream with the built-in proxy: its name, and the same exhaustion', () => {
    const report = loadReportFixture('proxy-short-upstream--builtin');
    const out = runRule(proxyUpstreamFindings, report);
    expect(only(out, 'Proxy proxy (')).toContain('(the built-in undici proxy, upstream keep-alive off)');
    expect(only(out, "The proxy's own log")).toContain(`(${n(stats(report, 'proxy')['errorLog'].causes.portsExhausted)})`);
  });

  it('haproxy-short-upstream (http mode): one upstream connection per request, closed by the proxy\'s RSTs, no log, no 5xx', () => {
    const report = loadReportFixture('haproxy-short-upstream');
    const opens = Number(stats(report, 'proxy')['hostActiveOpens']);
    const d = host(report, 'proxy').counters.delta;
    const out = runRule(proxyUpstreamFindings, report);
    expect(only(out, 'Proxy proxy (')).toContain(`(HAProxy, upstream keep-alive off) opened ${n(opens)} upstream connections`);
    const f = upstreamFacts(report);
    expect(f.twProxy).toBe(0);
    expect(f.twBackend).toBe(0);
    expect(d['Tcp.OutRsts']!).toBeGreaterThanOrEqual(opens / 2);
    const b = only(out, 'Upstream web1');
    expect(b).toContain(`Neither host held TIME_WAIT for them: the proxy closed them by RST (Tcp.OutRsts +${n(d['Tcp.OutRsts']!)}, TcpExt.TCPAbortOnData +${n(d['TcpExt.TCPAbortOnData']!)} on host proxy`);
    expect(b).toContain('HAProxy waits for the server to close first');
    expect(out.some((s) => s.startsWith("The proxy's own log"))).toBe(false);
    expect(out.some((s) => s.startsWith('Clients of proxy'))).toBe(false);
    expect(out).toHaveLength(2);
  });

  it('haproxy-short-upstream with sourcePorts: its own source range as the budget, and TIME_WAIT taken over (TWRecycled)', () => {
    const report = loadReportFixture('haproxy-short-upstream--source-ports');
    const out = runRule(proxyUpstreamFindings, report);
    const f = upstreamFacts(report);
    expect(f.twProxy).toBe(1007);
    expect(only(out, 'Upstream web1')).toContain('That is 100% of its 1,000-port source port range (sourcePorts) (40000-40999)');
    const recycled = f.proxy.counters.delta['TcpExt.TWRecycled']!;
    expect(recycled).toBeGreaterThan(0);
    const s = only(out, 'new connections took over');
    expect(s).toContain(`On host proxy new connections took over ${n(recycled)} TIME_WAIT entries (TcpExt.TWRecycled) with net.ipv4.tcp_tw_reuse=0.`);
    expect(s).toContain('The proxy binds each source port itself');
  });

  it('proxy-keepalive-upstream and haproxy-keepalive-upstream: a pool, few opens, no TIME_WAIT, no log, no 5xx', () => {
    for (const [name, engine] of [['proxy-keepalive-upstream', 'nginx'], ['haproxy-keepalive-upstream', 'HAProxy']] as const) {
      const report = loadReportFixture(name);
      const opens = Number(stats(report, 'proxy')['hostActiveOpens']);
      const out = runRule(proxyUpstreamFindings, report);
      const a = only(out, 'Proxy proxy (');
      expect(a).toContain(`upstream keep-alive on, pool ${report.scenario.plan.actors['proxy']!.options['keepAlive']}) opened ${n(opens)} upstream connections`);
      expect(a).toContain(engine);
      expect(a).toContain('Kept-alive connections carried many requests each');
      expect(only(out, 'Upstream web1')).toContain('Neither host held TIME_WAIT for them: the connections stayed open and were reused.');
      expect(out).toHaveLength(2);
    }
  });

  it('says nothing without a proxy actor', () => {
    for (const name of ['short-conn', 'nat-single-source', 'keepalive-vs-close']) expect(runRule(proxyUpstreamFindings, loadReportFixture(name))).toEqual([]);
  });

  it('d) mixed (backendCloser=server): both kernels counted first closes, and the sentence says the evidence is mixed', () => {
    // The run said "The proxy closed these connections first" from the peaks (882 against 256), while the backend's
    // TcpExt.TW rose 1,184 and the proxy's 880: new SYNs took over the backend's entries and kept its peak low.
    const report = loadReportFixture('proxy-short-upstream--backend-closer-server');
    const f = upstreamFacts(report);
    expect(f.backend.counters.delta['TcpExt.TW']).toBe(1184);
    expect(f.proxy.counters.delta['TcpExt.TW']).toBe(880);
    const b = only(runRule(proxyUpstreamFindings, report), 'Upstream web1');
    expect(b).toContain('peaked at 880 on host proxy and 251 on host backend1');
    expect(b).toContain('Who closed these connections first was mixed (first closes counted by each kernel: host proxy 880 (TcpExt.TW +880), host backend1 1,184 (TcpExt.TW +1,184))');
    expect(b).toContain(`That is ${pct(880, 1000)} of its 1,000-port ip_local_port_range (40000-40999)`);
    expect(b).not.toContain('closed these connections first,');
  });

  it('server closed: the upstream\'s counters alone, and it says so whatever the peaks', () => {
    const report = loadReportFixture('proxy-short-upstream--backend-closer-server');
    const f = upstreamFacts(report);
    f.proxy.counters.delta['TcpExt.TW'] = 0;
    f.proxy.peak.peers.ephemeral[`${f.u.address}:${f.u.port}`]!.TIME_WAIT = 0;
    f.proxy.peak.total.TIME_WAIT = 0;
    const b = only(runRule(proxyUpstreamFindings, report), 'Upstream web1');
    expect(b).toContain('peaked at 0 on host proxy and 251 on host backend1');
    expect(b).toContain('Host backend1 closed these connections first (first closes counted by each kernel: host backend1 1,184 (TcpExt.TW +1,184), host proxy 0 (TcpExt.TW +0)), so its host holds the TIME_WAIT, on its listening port');
  });

  it('reacts to the fixture: no log lines, no 502', () => {
    const quiet = loadReportFixture('proxy-short-upstream');
    stats(quiet, 'proxy')['errorLog'].lines = 0;
    stats(quiet, 'flood')['statuses'] = { 200: stats(quiet, 'flood')['statuses']['200'] };
    const out = runRule(proxyUpstreamFindings, quiet);
    expect(out.some((s) => s.startsWith("The proxy's own log"))).toBe(false);
    expect(out.some((s) => s.startsWith('Clients of proxy'))).toBe(false);
  });
});
