import { describe, expect, it } from 'vitest';
import { loadErrorFindings } from '../../../src/report/findings/load-errors.ts';
import { citing, claimed, claimValue, host, loadReportFixture, runFindings, stats } from '../fixture.ts';

const values = (findings: ReturnType<typeof runFindings>, name: string, of?: string) =>
  claimed(findings, name as never, of).map((c) => c.value);

describe('loadErrorFindings', () => {
  it('short-conn: EADDRNOTAVAIL with its time, the prediction, and what held the ports toward the destination', () => {
    const report = loadReportFixture('short-conn');
    const flood = stats(report, 'flood');
    const e = flood['errors']['EADDRNOTAVAIL'];
    const p = report.predictions['flood']!.exhaustion!;
    const out = runFindings(loadErrorFindings, report);
    expect(out.map((f) => [f.rule, f.host, f.peers])).toEqual([['load-errors', 'client', ['server']]]);
    expect(claimValue(out, 'client', 'errors', 'EADDRNOTAVAIL')).toBe(e.count);
    expect(claimValue(out, 'client', 'syscallErrors', 'EADDRNOTAVAIL connect')).toBe(e.syscalls.connect);
    expect(claimValue(out, 'client', 'firstErrorAtMs', 'EADDRNOTAVAIL')).toBe(e.firstAtMs - flood['startedAtMs']);
    expect(claimValue(out, 'client', 'prediction', 'exhaustion.predictedMs')).toBe(p.predictedMs);
    expect(claimValue(out, 'client', 'prediction', 'exhaustion.portBudget')).toBe(1000);
    expect(claimValue(out, 'client', 'prediction', 'exhaustion.connectRate')).toBe(p.connectRate);
    // What held every port rests on the per-peer census toward that destination, for the group with host server.
    const peer = host(report, 'client').peak.peers.ephemeral['198.18.0.2:8080']!;
    expect(peer.TIME_WAIT).toBe(1000);
    const held = claimed(out, 'peerStatePeak');
    expect(held.map((c) => [c.claim.of, c.value, c.peers])).toEqual([
      ['TIME_WAIT', 1000, ['server']],
      ['ESTABLISHED', peer.ESTABLISHED, ['server']],
      ['FIN_WAIT1', peer.FIN_WAIT1, ['server']],
    ]);
    expect(claimValue(out, 'client', 'sockstatTwPeak')).toBe(1000);
    expect(out[0]!.text).toMatch(/Every local port toward 198\.18\.0\.2:8080 was held by a socket in TIME_WAIT/);
  });

  it('TIME_WAIT short of the whole budget at its peak, beside SYNs still out: "every port" is not said', () => {
    const report = loadReportFixture('short-conn');
    const peer = host(report, 'client').peak.peers.ephemeral['198.18.0.2:8080']!;
    (peer as Record<string, number>)['TIME_WAIT'] = 970;
    (peer as Record<string, number>)['SYN_SENT'] = 20;
    const out = runFindings(loadErrorFindings, report);
    expect(claimed(out, 'peerStatePeak').find((c) => c.claim.of === 'TIME_WAIT')?.value).toBe(970);
    expect(out[0]!.text).not.toMatch(/Every local port/);
    expect(out[0]!.text).toMatch(
      /held mostly by sockets in TIME_WAIT, the rest by connections not yet closed \(per-peer census peaks on host client: TIME_WAIT 970, .*SYN_SENT 20.*, of its 1,000-port budget/,
    );
  });

  it('short-conn held open (closeStyle never on both sides): the ports were held by ESTABLISHED sockets, not TIME_WAIT', () => {
    const report = loadReportFixture('short-conn--held-open');
    const client = host(report, 'client');
    expect(client.peak.sockstatTw).toBe(0);
    const out = runFindings(loadErrorFindings, report);
    expect(claimed(out, 'peerStatePeak').map((c) => [c.claim.of, c.value])).toEqual([
      ['ESTABLISHED', 200],
      ['SYN_SENT', 1],
    ]);
    // Not held by TIME_WAIT: neither sockstat nor tcp_tw_reuse's delay is claimed.
    expect(claimed(out, 'sockstatTwPeak')).toEqual([]);
    // The same fixture with the peer's states swapped to TIME_WAIT claims TIME_WAIT again.
    const swapped = loadReportFixture('short-conn--held-open');
    const sw = host(swapped, 'client');
    sw.peak.peers.ephemeral['198.18.0.2:8080'] = { TIME_WAIT: 200 };
    sw.peak.total.TIME_WAIT = sw.peak.sockstatTw = 200;
    const again = runFindings(loadErrorFindings, swapped);
    expect(claimed(again, 'peerStatePeak').map((c) => [c.claim.of, c.value])).toEqual([['TIME_WAIT', 200]]);
    expect(claimValue(again, 'client', 'sockstatTwPeak')).toBe(200);
  });

  it('short-conn with tcp_tw_reuse=1: no error, so nothing to say', () => {
    const report = loadReportFixture('short-conn--tw-reuse-1');
    expect(stats(report, 'flood')['errors']).toEqual({});
    expect(stats(report, 'flood')['missedStarts']).toBe(0);
    expect(runFindings(loadErrorFindings, report)).toEqual([]);
  });

  it('bind-before-connect: EADDRINUSE by connect() on the bound host, with no exhaustion prediction', () => {
    const report = loadReportFixture('bind-before-connect');
    const out = runFindings(loadErrorFindings, report);
    for (const a of ['bound-a', 'bound-b']) {
      const st = stats(report, a);
      const e = st['errors']['EADDRINUSE'];
      const mine = citing(out, a);
      expect(values(mine, 'errors', 'EADDRINUSE')).toEqual([e.count]);
      expect(values(mine, 'syscallErrors', 'EADDRINUSE connect')).toEqual([e.syscalls.connect]);
      expect(values(mine, 'firstErrorAtMs', 'EADDRINUSE')).toEqual([e.firstAtMs - st['startedAtMs']]);
      expect(report.predictions[a]!.exhaustion).toBeUndefined();
      expect(claimed(mine, 'prediction')).toEqual([]);
    }
    for (const a of ['plain-a', 'plain-b']) {
      const p = report.predictions[a]!.exhaustion!;
      expect(values(citing(out, a), 'prediction', 'exhaustion.portBudget')).toEqual([p.portBudget]);
    }
  });

  it('missed starts of the open model, counted per actor', () => {
    const report = loadReportFixture('nat-single-source');
    const out = runFindings(loadErrorFindings, report);
    for (const a of ['from-c1', 'from-c2', 'from-c3', 'from-c4']) {
      const missed = Number(stats(report, a)['missedStarts']);
      expect(values(citing(out, a), 'missedStarts')).toEqual(missed > 0 ? [missed] : []);
    }
  });

  it('a count includes missed starts: how many were attempted, connected and missed', () => {
    const report = loadReportFixture('nat-single-source');
    const st = stats(report, 'from-c1');
    const plan = report.scenario.plan.actors['from-c1']!;
    const count = st['attempts'] + st['missedStarts'];
    (plan.options as Record<string, unknown>)['count'] = count;
    if (plan.connections?.load) (plan as { connections: { load: { count?: number } } }).connections.load.count = count;
    const mine = citing(runFindings(loadErrorFindings, report), 'from-c1');
    expect(values(mine, 'planned', 'count')).toEqual([count]);
    expect(values(mine, 'attempts')).toEqual([st['attempts']]);
    expect(values(mine, 'connections')).toEqual([st['connected']]);
    expect(mine.map((f) => f.text).join('\n')).toMatch(/starts includes them/);
  });

  it('a count the duration ended before: the starts never due are told apart from the missed ones', () => {
    const report = loadReportFixture('nat-single-source');
    const st = stats(report, 'from-c1');
    const plan = report.scenario.plan.actors['from-c1']!;
    const count = st['attempts'] + st['missedStarts'] + 7;
    (plan.options as Record<string, unknown>)['count'] = count;
    if (plan.connections?.load) (plan as { connections: { load: { count?: number } } }).connections.load.count = count;
    const text = citing(runFindings(loadErrorFindings, report), 'from-c1')
      .map((f) => f.text)
      .join('\n');
    expect(text).toMatch(/Its duration ended before its count of [\d,]+ starts: .*, 7 never due\./);
    expect(text).not.toMatch(/includes them/);
  });

  it('reacts to the fixture: tcp_tw_reuse=1 claims its delay; no errors, no finding', () => {
    const reuse = loadReportFixture('short-conn');
    host(reuse, 'client').sysctls['net.ipv4.tcp_tw_reuse'] = '1';
    expect(claimValue(runFindings(loadErrorFindings, reuse), 'client', 'sysctl', 'net.ipv4.tcp_tw_reuse_delay')).toBe(
      Number(host(reuse, 'client').sysctls['net.ipv4.tcp_tw_reuse_delay']),
    );

    const clean = loadReportFixture('short-conn');
    stats(clean, 'flood')['errors'] = {};
    expect(runFindings(loadErrorFindings, clean)).toEqual([]);
  });
});
