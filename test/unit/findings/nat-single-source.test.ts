import { describe, expect, it } from 'vitest';
import { natSingleSourceFindings } from '../../../src/report/findings/nat-single-source.ts';
import type { Report } from '../../../src/report/report.ts';
import { claimed, claimValue, host, loadReportFixture, runFindings, stats } from '../fixture.ts';

const CLIENTS = ['c1', 'c2', 'c3', 'c4'];
const sum = (f: (c: string) => number) => CLIENTS.reduce((s, c) => s + f(c), 0);

function facts(report: Report) {
  const server = host(report, 'server');
  const nat = report.scenario.plan.hosts['gw']!.gateway!.masquerade!.address;
  return {
    server,
    nat,
    entered: server.counters.delta['TcpExt.TW']!,
    early: server.counters.delta['TcpExt.TW']! - server.final.TIME_WAIT,
    paws: server.counters.delta['TcpExt.PAWSTimewait']!,
    connections: sum((c) => Number(stats(report, `from-${c}`)['connected'])),
    rsts: sum((c) => host(report, c).counters.delta['Tcp.OutRsts'] ?? 0),
    synRetrans: sum((c) => host(report, c).counters.delta['TcpExt.TCPSynRetrans'] ?? 0),
  };
}

describe('natSingleSourceFindings', () => {
  it('nat-single-source: one remote address for four hosts, server TIME_WAIT under it, SYNs refused by PAWS and retried', () => {
    const report = loadReportFixture('nat-single-source');
    const f = facts(report);
    const out = runFindings(natSingleSourceFindings, report);
    expect(out.map((x) => [x.rule, x.host, x.peers])).toEqual([['nat-single-source', 'server', CLIENTS]]);
    expect(f.nat).toBe('198.18.1.1');
    expect(claimValue(out, 'server', 'connections')).toBe(f.connections);
    expect(claimValue(out, 'server', 'peerTimeWait')).toBe(f.server.peak.peers.listen[f.nat]!.TIME_WAIT);
    expect(claimValue(out, 'server', 'counter', 'TcpExt.TW')).toBe(f.entered);
    expect(claimValue(out, 'server', 'timeWaitLeftEarly')).toBe(f.early);
    expect(claimValue(out, 'server', 'timeWaitTakenOver')).toBe(f.early - f.rsts);
    expect(f.paws).toBeGreaterThan(0);
    expect(claimValue(out, 'server', 'counter', 'TcpExt.PAWSTimewait')).toBe(f.paws);
    expect(claimValue(out, 'server', 'counter', 'Tcp.OutRsts')).toBe(f.rsts);
    expect(claimValue(out, 'server', 'counter', 'TcpExt.TCPSynRetrans')).toBe(f.synRetrans);
    expect(claimValue(out, 'server', 'errors', 'any')).toBe(0);
    expect(claimed(out, 'latency', 'max').map((c) => [c.value, c.peers])).toEqual(
      CLIENTS.map((c) => [stats(report, `from-${c}`)['latencyMs'].max, [c]]),
    );
    // The scenario's ctTimeWait=1.
    expect(claimValue(out, 'server', 'sysctl', 'net.netfilter.nf_conntrack_tcp_timeout_time_wait')).toBe(1);
  });

  it('with tcp_rfc1337=1 on the server: the RST does not clear the entry, and connections fail', () => {
    const report = loadReportFixture('nat-single-source--rfc1337');
    const f = facts(report);
    const out = runFindings(natSingleSourceFindings, report);
    expect(claimValue(out, 'server', 'timeWaitTakenOver')).toBe(f.early);
    expect(claimValue(out, 'server', 'errors', 'any')).toBe(
      sum((c) => Number(stats(report, `from-${c}`)['errorCount'])),
    );
  });

  it('with conntrack keeping a closed mapping 120 s: longer than TIME_WAIT', () => {
    const report = loadReportFixture('nat-single-source--ct-120');
    expect(
      claimValue(
        runFindings(natSingleSourceFindings, report),
        'server',
        'sysctl',
        'net.netfilter.nf_conntrack_tcp_timeout_time_wait',
      ),
    ).toBe(120);
  });

  it('says nothing without a masquerading gateway', () => {
    for (const name of ['short-conn', 'server-close', 'proxy-short-upstream'])
      expect(runFindings(natSingleSourceFindings, loadReportFixture(name))).toEqual([]);
  });

  it('reacts to the fixture: no PAWSTimewait counter, none refused, a 60 s run', () => {
    const absent = loadReportFixture('nat-single-source');
    delete host(absent, 'server').counters.delta['TcpExt.PAWSTimewait'];
    expect(claimed(runFindings(natSingleSourceFindings, absent), 'counter', 'TcpExt.PAWSTimewait')).toEqual([]);

    const zero = loadReportFixture('nat-single-source');
    host(zero, 'server').counters.delta['TcpExt.PAWSTimewait'] = 0;
    const z = runFindings(natSingleSourceFindings, zero);
    expect(claimValue(z, 'server', 'counter', 'TcpExt.PAWSTimewait')).toBe(0);
    expect(claimed(z, 'counter', 'TcpExt.TCPSynRetrans')).toEqual([]);

    const long = loadReportFixture('nat-single-source');
    long.durationMs = 60_000;
    expect(claimed(runFindings(natSingleSourceFindings, long), 'timeWaitLeftEarly')).toEqual([]);
  });
});
