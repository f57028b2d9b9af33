import { describe, expect, it } from 'vitest';
import { loadErrorFindings } from '../../../src/report/findings/load-errors.ts';
import { dur, host, loadReportFixture, n, only, runRule, stats } from '../fixture.ts';

describe('loadErrorFindings', () => {
  it('short-conn: EADDRNOTAVAIL with its time, the prediction, the destination and tcp_tw_reuse=0', () => {
    const report = loadReportFixture('short-conn');
    const flood = stats(report, 'flood');
    const e = flood['errors']['EADDRNOTAVAIL'];
    const p = report.predictions['flood']!.exhaustion!;
    const out = runRule(loadErrorFindings, report);
    expect(out).toHaveLength(1);
    const s = only(out, 'EADDRNOTAVAIL');
    expect(s).toContain(`EADDRNOTAVAIL ("Cannot assign requested address") ${n(e.count)} times on host client (actor flood; connect() ${n(e.syscalls.connect)}), first ${dur(e.firstAtMs - flood['startedAtMs'])} into the load.`);
    expect(s).toContain(`Predicted ${dur(p.predictedMs!)}: ${n(p.portBudget)} ports / ${p.connectRate} new connections per second (measured/predicted ${p.ratio}).`);
    expect(p.portBudget).toBe(1000);
    const to = report.scenario.plan.actors['flood']!.connect!;
    // The claim that TIME_WAIT held every port rests on the per-peer census toward that destination, named in the sentence.
    const peer = host(report, 'client').peak.peers.ephemeral[`${to.address}:${to.port}`]!;
    expect(peer.TIME_WAIT).toBe(1000);
    expect(s).toContain(`Every local port toward ${to.address}:${to.port} was held by a socket in TIME_WAIT (per-peer census peaks on host client: TIME_WAIT 1,000, ESTABLISHED ${peer.ESTABLISHED}, FIN_WAIT1 ${peer.FIN_WAIT1}; host-wide sockstat tw 1,000), and net.ipv4.tcp_tw_reuse=0 forbids connect() to reuse them.`);
    expect(s).toContain('What would change it: keep-alive');
  });

  it('short-conn held open (closeStyle never on both sides): the ports were held by ESTABLISHED sockets, not TIME_WAIT', () => {
    const report = loadReportFixture('short-conn--held-open');
    const client = host(report, 'client');
    expect(client.peak.total.TIME_WAIT).toBe(0);
    expect(client.peak.sockstatTw).toBe(0);
    expect(client.peak.peers.ephemeral['198.18.0.2:8080']!.ESTABLISHED).toBe(200);
    const s = only(runRule(loadErrorFindings, report), 'EADDRNOTAVAIL');
    expect(s).not.toContain('in TIME_WAIT,');
    expect(s).not.toContain('tcp_tw_reuse');
    expect(s).toContain('Its ports toward 198.18.0.2:8080 were held by connections still open, not by TIME_WAIT (per-peer census peaks on host client: ESTABLISHED 200, SYN_SENT 1): a port stays taken while any socket holds its 4-tuple, and no sysctl frees it.');
    expect(s).toContain('What would change it: closing each connection when its work is done');
    // The same fixture with the peer's states swapped to TIME_WAIT speaks of TIME_WAIT again.
    const swapped = loadReportFixture('short-conn--held-open');
    const sw = host(swapped, 'client');
    sw.peak.peers.ephemeral['198.18.0.2:8080'] = { TIME_WAIT: 200 };
    sw.peak.total.TIME_WAIT = sw.peak.sockstatTw = 200;
    expect(only(runRule(loadErrorFindings, swapped), 'EADDRNOTAVAIL')).toContain('Every local port toward 198.18.0.2:8080 was held by a socket in TIME_WAIT (per-peer census peaks on host client: TIME_WAIT 200;');
  });

  it('short-conn with tcp_tw_reuse=2: loopback only, and this traffic crossed a veth', () => {
    const report = loadReportFixture('short-conn--tw-reuse-2');
    expect(host(report, 'client').sysctls['net.ipv4.tcp_tw_reuse']).toBe('2');
    expect(only(runRule(loadErrorFindings, report), 'EADDRNOTAVAIL')).toContain('net.ipv4.tcp_tw_reuse=2 allows reuse on loopback only, and this traffic crossed a veth.');
  });

  it('short-conn with tcp_tw_reuse=1: no error, so nothing to say', () => {
    const report = loadReportFixture('short-conn--tw-reuse-1');
    expect(stats(report, 'flood')['errors']).toEqual({});
    expect(stats(report, 'flood')['missedStarts']).toBe(0);
    expect(runRule(loadErrorFindings, report)).toEqual([]);
  });

  it('bind-before-connect: EADDRINUSE by connect() on the bound host, with no exhaustion prediction', () => {
    const report = loadReportFixture('bind-before-connect');
    const out = runRule(loadErrorFindings, report);
    for (const a of ['bound-a', 'bound-b']) {
      const st = stats(report, a);
      const e = st['errors']['EADDRINUSE'];
      const s = only(out, `(actor ${a};`);
      expect(s).toBe(`EADDRINUSE ("Address already in use") ${n(e.count)} times on host bound (actor ${a}; connect() ${n(e.syscalls.connect)}), first ${dur(e.firstAtMs - st['startedAtMs'])} into the load.`);
      expect(report.predictions[a]!.exhaustion).toBeUndefined();
    }
    for (const a of ['plain-a', 'plain-b']) {
      const p = report.predictions[a]!.exhaustion!;
      expect(only(out, `(actor ${a};`)).toContain(`${n(p.portBudget)} ports / ${p.connectRate} new connections per second`);
    }
  });

  it('missed starts of the open model, counted per actor', () => {
    const report = loadReportFixture('nat-single-source');
    const out = runRule(loadErrorFindings, report);
    for (const a of ['from-c1', 'from-c2', 'from-c3', 'from-c4']) {
      const missed = Number(stats(report, a)['missedStarts']);
      const mine = out.filter((s) => s.startsWith(`Actor ${a} missed`));
      expect(mine).toEqual(missed > 0 ? [`Actor ${a} missed ${n(missed)} scheduled starts: the open model counts a start that cannot begin on time rather than delaying it.`] : []);
    }
  });

  it('a count includes missed starts: says how many were attempted, connected and missed', () => {
    const report = loadReportFixture('nat-single-source');
    const st = stats(report, 'from-c1');
    (report.scenario.plan.actors['from-c1']!.options as Record<string, unknown>)['count'] = st['attempts'] + st['missedStarts'];
    const s = only(runRule(loadErrorFindings, report), 'Actor from-c1 missed');
    expect(s).toContain(`Its count of ${n(st['attempts'] + st['missedStarts'])} starts includes them: ${n(st['attempts'])} attempted (${n(st['connected'])} connected) and ${n(st['missedStarts'])} missed.`);
  });

  it('reacts to the fixture: tcp_tw_reuse=1, timestamps off, no errors', () => {
    const reuse = loadReportFixture('short-conn');
    host(reuse, 'client').sysctls['net.ipv4.tcp_tw_reuse'] = '1';
    expect(only(runRule(loadErrorFindings, reuse), 'EADDRNOTAVAIL')).toContain(`net.ipv4.tcp_tw_reuse=1 reuses one only once it is ${host(reuse, 'client').sysctls['net.ipv4.tcp_tw_reuse_delay']} ms (tcp_tw_reuse_delay) old.`);

    host(reuse, 'client').sysctls['net.ipv4.tcp_timestamps'] = '0';
    expect(only(runRule(loadErrorFindings, reuse), 'EADDRNOTAVAIL')).toContain('net.ipv4.tcp_tw_reuse=1 needs TCP timestamps, and tcp_timestamps=0 turned them off.');

    const clean = loadReportFixture('short-conn');
    stats(clean, 'flood')['errors'] = {};
    expect(runRule(loadErrorFindings, clean)).toEqual([]);
  });
});
