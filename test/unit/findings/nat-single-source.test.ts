import { describe, expect, it } from 'vitest';
import { natSingleSourceFindings } from '../../../src/report/findings/nat-single-source.ts';
import type { Report } from '../../../src/report/report.ts';
import { host, loadReportFixture, n, runRule, stats } from '../fixture.ts';

const CLIENTS = ['c1', 'c2', 'c3', 'c4'];
const sum = (report: Report, f: (c: string) => number) => CLIENTS.reduce((s, c) => s + f(c), 0);

function facts(report: Report) {
  const server = host(report, 'server');
  const nat = report.scenario.plan.hosts['gw']!.gateway!.masquerade!.address;
  return {
    server,
    nat,
    entered: server.counters.delta['TcpExt.TW']!,
    early: server.counters.delta['TcpExt.TW']! - server.final.TIME_WAIT,
    paws: server.counters.delta['TcpExt.PAWSTimewait']!,
    connections: sum(report, (c) => Number(stats(report, `from-${c}`)['connected'])),
    rsts: sum(report, (c) => host(report, c).counters.delta['Tcp.OutRsts'] ?? 0),
    synRetrans: sum(report, (c) => host(report, c).counters.delta['TcpExt.TCPSynRetrans'] ?? 0),
  };
}

describe('natSingleSourceFindings', () => {
  it('nat-single-source: one remote address for four hosts, server TIME_WAIT under it, SYNs refused by PAWS and retried', () => {
    const report = loadReportFixture('nat-single-source');
    const f = facts(report);
    const out = runRule(natSingleSourceFindings, report);
    expect(out).toHaveLength(1);
    const [s] = out as [string];
    expect(f.nat).toBe('198.18.1.1');
    expect(s).toContain(`Host gw masqueraded 4 hosts of network lan (c1 198.18.0.2, c2 198.18.0.3, c3 198.18.0.4, c4 198.18.0.5) behind its wan address 198.18.1.1 (nftables masquerade in its own namespace): host server saw that one remote address only for their ${n(f.connections)} connections, and held up to ${n(f.server.peak.peers.listen[f.nat]!.TIME_WAIT!)} TIME_WAIT under it.`);
    expect(s).toContain(`${n(f.entered)} connections entered TIME_WAIT there (TcpExt.TW +${n(f.entered)}) and ${n(f.early)} left it before 60 s: at least ${n(Math.max(0, f.early - f.rsts))} were taken over by a new SYN on the same 4-tuple whose timestamp was newer (RFC 6191), the rest ended by clients' RSTs (${n(f.rsts)}, tcp_rfc1337=0).`);
    expect(f.paws).toBeGreaterThan(0);
    expect(s).toContain(`TcpExt.PAWSTimewait +${n(f.paws)}: that many SYNs met a TIME_WAIT 4-tuple with an older timestamp`);
    expect(s).toContain(`the clients reset (Tcp.OutRsts +${n(f.rsts)} on their hosts) and sent their SYN again (TcpExt.TCPSynRetrans +${n(f.synRetrans)})`);
    const slowest = Math.round(Math.max(...CLIENTS.map((c) => Number(stats(report, `from-${c}`)['latencyMs'].max))));
    expect(sum(report, (c) => Number(stats(report, `from-${c}`)['errorCount']))).toBe(0);
    expect(s).toContain(`With tcp_rfc1337=0 on host server the RST ended the TIME_WAIT entry and the next SYN went through: no connection failed (slowest answer ${slowest} ms`);
    // The scenario's ctTimeWait=1.
    expect(s).toContain("nf_conntrack_tcp_timeout_time_wait=1 s, less than the server's 60 s TIME_WAIT: it then hands a 4-tuple the server still holds to another client.");
  });

  it('with tcp_rfc1337=1 on the server: the RST does not clear the entry, and connections fail', () => {
    const report = loadReportFixture('nat-single-source--rfc1337');
    const f = facts(report);
    const [s] = runRule(natSingleSourceFindings, report) as [string];
    expect(s).toContain(`${n(f.early)} left it before 60 s: at least ${n(f.early)} were taken over by a new SYN on the same 4-tuple whose timestamp was newer (RFC 6191).`);
    expect(s).not.toContain("the rest ended by clients' RSTs");
    const failed = sum(report, (c) => Number(stats(report, `from-${c}`)['errorCount']));
    const codes = [...new Set(CLIENTS.flatMap((c) => Object.keys(stats(report, `from-${c}`)['errors'])))].join(', ');
    expect(s).toContain(`With tcp_rfc1337=1 on host server the RST does not end the TIME_WAIT entry, so the retried SYNs met it again: ${n(failed)} connections failed (${codes}).`);
  });

  it('with conntrack keeping a closed mapping 120 s: longer than TIME_WAIT', () => {
    const report = loadReportFixture('nat-single-source--ct-120');
    const [s] = runRule(natSingleSourceFindings, report) as [string];
    expect(host(report, 'gw').sysctls['net.netfilter.nf_conntrack_tcp_timeout_time_wait']).toBe('120');
    expect(s).toContain("nf_conntrack_tcp_timeout_time_wait=120 s, longer than the server's 60 s TIME_WAIT: it does not hand a 4-tuple the server still holds to another client");
  });

  it('says nothing without a masquerading gateway', () => {
    for (const name of ['short-conn', 'server-close', 'proxy-short-upstream']) expect(runRule(natSingleSourceFindings, loadReportFixture(name))).toEqual([]);
  });

  it('reacts to the fixture: no PAWSTimewait counter, none refused, a 60 s run', () => {
    const absent = loadReportFixture('nat-single-source');
    delete host(absent, 'server').counters.delta['TcpExt.PAWSTimewait'];
    const [a] = runRule(natSingleSourceFindings, absent) as [string];
    expect(a).toContain('This kernel has no TcpExt.PAWSTimewait counter, so SYNs refused in TIME_WAIT cannot be counted here.');

    const zero = loadReportFixture('nat-single-source');
    host(zero, 'server').counters.delta['TcpExt.PAWSTimewait'] = 0;
    const [z] = runRule(natSingleSourceFindings, zero) as [string];
    expect(z).toContain('No SYN was refused in TIME_WAIT (TcpExt.PAWSTimewait +0).');
    expect(z).not.toContain('that many SYNs');

    const long = loadReportFixture('nat-single-source');
    long.durationMs = 60_000;
    const [l] = runRule(natSingleSourceFindings, long) as [string];
    expect(l).not.toContain('left it before 60 s');
  });
});
