import { describe, expect, it } from 'vitest';
import { timeWaitTakeoverFindings } from '../../../src/report/findings/time-wait-takeover.ts';
import { claimed, claimValue, host, loadReportFixture, runFindings, stats } from '../fixture.ts';

describe('timeWaitTakeoverFindings', () => {
  it("server-close: entries that left TIME_WAIT early, taken over by the client's next SYN on a same-parity port", () => {
    const report = loadReportFixture('server-close');
    const server = host(report, 'server');
    const entered = server.counters.delta['TcpExt.TW']!;
    const out = runFindings(timeWaitTakeoverFindings, report);
    expect(out.map((f) => [f.rule, f.host, f.peers])).toEqual([['time-wait-takeover', 'server', ['client']]]);
    expect(entered).toBeGreaterThan(server.peak.total.TIME_WAIT);
    expect(claimValue(out, 'server', 'counter', 'TcpExt.TW')).toBe(entered);
    expect(claimValue(out, 'server', 'timeWaitPeak')).toBe(server.peak.total.TIME_WAIT);
    expect(claimValue(out, 'server', 'stateFinal', 'TIME_WAIT')).toBe(server.final.TIME_WAIT);
    expect(claimValue(out, 'server', 'timeWaitLeftEarly')).toBe(entered - server.final.TIME_WAIT);
    expect(claimValue(out, 'server', 'counter', 'Tcp.OutRsts')).toBe(0);
    expect(claimValue(out, 'server', 'counter', 'TcpExt.TWRecycled')).toBe(
      server.counters.delta['TcpExt.TWRecycled'] ?? 0,
    );
    const conns = Number(stats(report, 'flood')['connected']);
    const peer = server.peak.peers.listen[host(report, 'client').address]!.TIME_WAIT!;
    expect(claimValue(out, 'server', 'connections')).toBe(conns);
    expect(claimValue(out, 'server', 'errors', 'any')).toBe(stats(report, 'flood')['errorCount']);
    expect(claimValue(out, 'server', 'peerTimeWait')).toBe(peer);
    // The scenario's ports 40000-40199: 200 ports, 100 of them with the low end's parity.
    expect(claimValue(out, 'server', 'portBudget')).toBe(200);
    expect(claimed(out, 'sameParityPorts').map((c) => c.value)).toEqual(peer === 100 ? [100] : []);
    if (peer === 100) expect(claimValue(out, 'server', 'usesPerPort')).toBe(conns / 100);
  });

  it("nat-single-source: clients' RSTs also end entries, and the clients behind the gateway are one source address to the server", () => {
    const report = loadReportFixture('nat-single-source');
    const server = host(report, 'server');
    const out = runFindings(timeWaitTakeoverFindings, report);
    expect(out.map((f) => [f.host, f.peers])).toEqual([['server', ['c1', 'c2', 'c3', 'c4']]]);
    const rsts = ['c1', 'c2', 'c3', 'c4'].reduce((a, c) => a + (host(report, c).counters.delta['Tcp.OutRsts'] ?? 0), 0);
    expect(rsts).toBeGreaterThan(0);
    expect(claimValue(out, 'server', 'counter', 'Tcp.OutRsts')).toBe(rsts);
    expect(claimed(out, 'counter', 'TcpExt.TWRecycled')).toEqual([]);
    // b) Looked up under the gateway's masquerade address, not a client's own.
    expect(server.peak.peers.listen['198.18.0.2']).toBeUndefined();
    expect(claimValue(out, 'server', 'peerTimeWait')).toBe(849);
    expect(claimed(out, 'peerTimeWait')[0]!.claim.plus).toEqual([
      { from: 'peer-peak', host: 'server', role: 'listen', peer: '198.18.1.1', state: 'TIME_WAIT' },
    ]);
    expect(claimValue(out, 'server', 'connections')).toBe(
      ['c1', 'c2', 'c3', 'c4'].reduce((a, c) => a + Number(stats(report, `from-${c}`)['connected']), 0),
    );
  });

  it("c) fixed-local-port: only the server-closing client's 4-tuple; the clients that closed first themselves are left out", () => {
    const report = loadReportFixture('fixed-local-port');
    for (const c of ['noreuse', 'reuse']) expect(host(report, c).counters.delta['TcpExt.TW']).toBe(30);
    const out = runFindings(timeWaitTakeoverFindings, report);
    expect(out.map((f) => [f.host, f.peers])).toEqual([['server', ['srvclose']]]);
    expect(claimValue(out, 'server', 'connections')).toBe(stats(report, 'from-srvclose')['connected']);
    expect(claimValue(out, 'server', 'errors', 'any')).toBe(0);
    expect(claimed(out, 'portBudget')).toEqual([]);
  });

  it("mixed (backendCloser=server): the proxy as the client, its connections counted by the backend's Tcp.PassiveOpens, and its own share of first closes", () => {
    const report = loadReportFixture('proxy-short-upstream--backend-closer-server');
    const out = runFindings(timeWaitTakeoverFindings, report);
    expect(claimValue(out, 'backend1', 'counter', 'TcpExt.TW')).toBe(1184);
    expect(claimValue(out, 'backend1', 'timeWaitPeak')).toBe(251);
    expect(claimValue(out, 'backend1', 'connections')).toBe(2000);
    expect(claimed(out, 'connections')[0]!.claim.plus).toEqual([
      { from: 'counter', host: 'backend1', counter: 'Tcp.PassiveOpens' },
    ]);
    expect(claimValue(out, 'backend1', 'portBudget')).toBe(1000);
    expect(claimValue(out, 'backend1', 'firstCloses')).toBe(880);
  });

  it('says nothing of a host that also holds TIME_WAIT as a client, nor where TIME_WAIT sits on ephemeral ports only, or none left early', () => {
    const report = loadReportFixture('proxy-short-upstream--backend-closer-server');
    expect(host(report, 'proxy').peak.ephemeral.TIME_WAIT).toBeGreaterThan(0);
    expect(runFindings(timeWaitTakeoverFindings, report).map((f) => f.host)).toEqual(['backend1']);
    expect(runFindings(timeWaitTakeoverFindings, loadReportFixture('short-conn'))).toEqual([]);
    const lb = loadReportFixture('listen-backlog');
    for (const h of ['server', 'strict'])
      expect(host(lb, h).counters.delta['TcpExt.TW']).toBeLessThanOrEqual(host(lb, h).peak.total.TIME_WAIT);
    expect(runFindings(timeWaitTakeoverFindings, lb)).toEqual([]);
  });

  it('reacts to the fixture: a 60 s run, no early exits, FIN_WAIT_2 timewait entries, an RST from the client, one TIME_WAIT fewer than the parity half', () => {
    const long = loadReportFixture('server-close');
    long.durationMs = 60_000;
    expect(runFindings(timeWaitTakeoverFindings, long)).toEqual([]);

    const none = loadReportFixture('server-close');
    host(none, 'server').counters.delta['TcpExt.TW'] = host(none, 'server').peak.total.TIME_WAIT;
    expect(runFindings(timeWaitTakeoverFindings, none)).toEqual([]);

    const finWait = loadReportFixture('server-close');
    const fw = host(finWait, 'server');
    fw.peak.total.FIN_WAIT2 = 5;
    fw.peak.sockstatTw = fw.peak.total.TIME_WAIT + 5;
    expect(runFindings(timeWaitTakeoverFindings, finWait)).toEqual([]);

    const reset = loadReportFixture('server-close');
    host(reset, 'client').counters.delta['Tcp.OutRsts'] = 7;
    const r = runFindings(timeWaitTakeoverFindings, reset);
    expect(claimValue(r, 'server', 'counter', 'Tcp.OutRsts')).toBe(7);
    expect(claimed(r, 'counter', 'TcpExt.TWRecycled')).toEqual([]);

    const fewer = loadReportFixture('server-close');
    fewer.hosts['server']!.peak.peers.listen[host(fewer, 'client').address]!.TIME_WAIT = 99;
    const f = runFindings(timeWaitTakeoverFindings, fewer);
    expect(claimValue(f, 'server', 'peerTimeWait')).toBe(99);
    expect(claimed(f, 'sameParityPorts')).toEqual([]);
  });
});
