import { describe, expect, it } from 'vitest';
import { bindBeforeConnectFindings } from '../../../src/report/findings/bind-before-connect.ts';
import type { Report } from '../../../src/report/report.ts';
import { claimed, claimValue, host, loadReportFixture, runFindings, stats } from '../fixture.ts';

const errorCount = (report: Report, actors: string[], code: string) =>
  actors.reduce((sum, a) => sum + (stats(report, a)['errors'][code]?.count ?? 0), 0);
const connected = (report: Report, actors: string[]) =>
  actors.reduce((sum, a) => sum + Number(stats(report, a)['connected']), 0);
const peerTimeWait = (report: Report, h: string) =>
  Math.min(
    ['198.18.0.3:8080', '198.18.0.3:8081'].reduce(
      (a, d) => a + (host(report, h).peak.peers.ephemeral[d]?.TIME_WAIT ?? 0),
      0,
    ),
    host(report, h).peak.total.TIME_WAIT,
    host(report, h).peak.sockstatTw,
  );

describe('bindBeforeConnectFindings', () => {
  it("bind-before-connect: plain connect() reaches each destination's budget; bind(ip, 0) stops at one, with EADDRINUSE", () => {
    const report = loadReportFixture('bind-before-connect');
    const out = runFindings(bindBeforeConnectFindings, report);
    expect(out.map((f) => [f.rule, f.host, f.peers])).toEqual([
      ['bind-before-connect', 'bound', ['server']],
      ['bind-before-connect', 'plain', ['server']],
    ]);
    // The scenario: ip_local_port_range 40000-40499 on both client hosts, two server ports.
    expect(claimValue(out, 'plain', 'connections')).toBe(connected(report, ['plain-a', 'plain-b']));
    expect(claimValue(out, 'plain', 'portBudget')).toBe(500);
    expect(claimValue(out, 'plain', 'errors', 'EADDRNOTAVAIL')).toBe(
      errorCount(report, ['plain-a', 'plain-b'], 'EADDRNOTAVAIL'),
    );
    expect(claimValue(out, 'plain', 'syscallErrors', 'EADDRNOTAVAIL connect')).toBe(
      errorCount(report, ['plain-a', 'plain-b'], 'EADDRNOTAVAIL'),
    );
    expect(claimValue(out, 'plain', 'peerTimeWait')).toBe(peerTimeWait(report, 'plain'));

    expect(claimValue(out, 'bound', 'connections')).toBe(connected(report, ['bound-a', 'bound-b']));
    const inUse = errorCount(report, ['bound-a', 'bound-b'], 'EADDRINUSE');
    expect(inUse).toBeGreaterThan(0);
    expect(claimValue(out, 'bound', 'errors', 'EADDRINUSE')).toBe(inUse);
    expect(claimValue(out, 'bound', 'syscallErrors', 'EADDRINUSE connect')).toBe(inUse);
    expect(claimValue(out, 'bound', 'peerTimeWait')).toBe(peerTimeWait(report, 'bound'));
    expect(claimValue(out, 'bound', 'counter', 'TcpExt.TWRecycled')).toBe(0);
  });

  it('bind-before-connect with ip_autobind_reuse=1: ports shared again, TIME_WAIT taken over although tcp_tw_reuse=0', () => {
    const report = loadReportFixture('bind-before-connect--autobind-reuse');
    const h = host(report, 'bound');
    expect(h.sysctls['net.ipv4.ip_autobind_reuse']).toBe('1');
    const out = runFindings(bindBeforeConnectFindings, report);
    expect(claimValue(out, 'bound', 'connections')).toBeGreaterThan(claimValue(out, 'bound', 'portBudget'));
    expect(claimValue(out, 'bound', 'counter', 'TcpExt.TWRecycled')).toBe(h.counters.delta['TcpExt.TWRecycled']);
    expect(claimValue(out, 'bound', 'errors', 'EADDRNOTAVAIL')).toBe(
      errorCount(report, ['bound-a', 'bound-b'], 'EADDRNOTAVAIL'),
    );
    expect(
      claimed(
        out.filter((f) => f.host === 'bound'),
        'errors',
        'EADDRINUSE',
      ),
    ).toEqual([]);
  });

  it('plain connect() toward several destinations elsewhere: no error claim where none occurred', () => {
    const report = loadReportFixture('listen-backlog');
    const out = runFindings(bindBeforeConnectFindings, report);
    expect(claimValue(out, 'client', 'connections')).toBe(connected(report, ['flood', 'flood-strict']));
    expect(claimed(out, 'errors')).toEqual([]);
  });

  it('says nothing with one destination per host, or a fixed local port', () => {
    expect(runFindings(bindBeforeConnectFindings, loadReportFixture('short-conn'))).toEqual([]);
    expect(runFindings(bindBeforeConnectFindings, loadReportFixture('rst-close'))).toEqual([]);
    expect(runFindings(bindBeforeConnectFindings, loadReportFixture('fixed-local-port'))).toEqual([]);
  });

  it('reacts to the fixture: one destination, no EADDRINUSE, a wider range', () => {
    const one = loadReportFixture('bind-before-connect');
    const b = one.scenario.plan.actors['bound-b'] as {
      connect: { port: number };
      connections?: { dials: { to: { port: number } }[] };
    };
    b.connect.port = 8080;
    if (b.connections) b.connections.dials[0]!.to.port = 8080;
    expect(runFindings(bindBeforeConnectFindings, one).map((f) => f.host)).toEqual(['plain']);

    const clean = loadReportFixture('bind-before-connect');
    for (const a of ['bound-a', 'bound-b']) delete stats(clean, a)['errors']['EADDRINUSE'];
    expect(
      claimed(
        runFindings(bindBeforeConnectFindings, clean).filter((f) => f.host === 'bound'),
        'errors',
      ),
    ).toEqual([]);

    const wide = loadReportFixture('bind-before-connect');
    host(wide, 'plain').sysctls['net.ipv4.ip_local_port_range'] = '40000 40999';
    expect(claimValue(runFindings(bindBeforeConnectFindings, wide), 'plain', 'portBudget')).toBe(1000);
  });
});
