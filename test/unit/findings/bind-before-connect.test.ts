import { describe, expect, it } from 'vitest';
import { bindBeforeConnectFindings } from '../../../src/report/findings/bind-before-connect.ts';
import type { Report } from '../../../src/report/report.ts';
import { host, loadReportFixture, n, only, runRule, stats } from '../fixture.ts';

const errorCount = (report: Report, actors: string[], code: string) => actors.reduce((sum, a) => sum + (stats(report, a)['errors'][code]?.count ?? 0), 0);
const connected = (report: Report, actors: string[]) => actors.reduce((sum, a) => sum + Number(stats(report, a)['connected']), 0);
const times = (conns: number, budget: number) => Math.round((conns / budget) * 100) / 100;

describe('bindBeforeConnectFindings', () => {
  it('bind-before-connect: plain connect() reaches each destination\'s budget; bind(ip, 0) stops at one, with EADDRINUSE', () => {
    const report = loadReportFixture('bind-before-connect');
    const out = runRule(bindBeforeConnectFindings, report);
    expect(out).toHaveLength(2);

    // The scenario: ip_local_port_range 40000-40499 on both client hosts, two server ports.
    const plainConns = connected(report, ['plain-a', 'plain-b']);
    const plain = only(out, 'Host plain');
    expect(plain).toContain(`Host plain opened ${n(plainConns)} connections toward 2 destinations (198.18.0.3:8080, 198.18.0.3:8081) = ${times(plainConns, 500)} x its 500-port budget (ip_local_port_range 40000-40499), calling connect() without bind()`);
    expect(plain).toContain('the budget counts per destination ip:port.');
    const notAvail = errorCount(report, ['plain-a', 'plain-b'], 'EADDRNOTAVAIL');
    expect(plain).toContain(`It failed with EADDRNOTAVAIL (connect()) ${n(notAvail)} times, once each destination's ports were held (its ephemeral TIME_WAIT peaked at ${n(host(report, 'plain').peak.ephemeral.TIME_WAIT)}).`);

    const boundConns = connected(report, ['bound-a', 'bound-b']);
    const bound = only(out, 'Host bound');
    expect(bound).toContain(`Host bound opened ${n(boundConns)} connections toward 2 destinations (198.18.0.3:8080, 198.18.0.3:8081) = ${times(boundConns, 500)} x its 500-port budget`);
    expect(bound).toContain('binding its source address (198.18.0.1) before connect()');
    const inUse = errorCount(report, ['bound-a', 'bound-b'], 'EADDRINUSE');
    expect(inUse).toBeGreaterThan(0);
    expect(bound).toContain(`(its ephemeral TIME_WAIT peaked at ${n(host(report, 'bound').peak.ephemeral.TIME_WAIT)}), bind() found none free: EADDRINUSE ("Address already in use") ${n(inUse)} times, reported by connect() because libuv holds bind()'s EADDRINUSE back and returns it from connect().`);
    expect(bound).toContain('the budget counts per host.');
    expect(bound).not.toContain('ip_autobind_reuse=1, bind(ip, 0) handed out');
    expect(host(report, 'bound').counters.delta['TcpExt.TWRecycled']).toBe(0);
    expect(bound).not.toContain('TWRecycled');
  });

  it('bind-before-connect with ip_autobind_reuse=1: ports shared again, TIME_WAIT taken over although tcp_tw_reuse=0', () => {
    const report = loadReportFixture('bind-before-connect--autobind-reuse');
    const h = host(report, 'bound');
    expect(h.sysctls['net.ipv4.ip_autobind_reuse']).toBe('1');
    const conns = connected(report, ['bound-a', 'bound-b']);
    expect(conns).toBeGreaterThan(500);
    const s = only(runRule(bindBeforeConnectFindings, report), 'Host bound');
    expect(s).toContain(`= ${times(conns, 500)} x its 500-port budget`);
    expect(s).toContain('With net.ipv4.ip_autobind_reuse=1, bind(ip, 0) handed out ports already held by sockets that set SO_REUSEADDR');
    const recycled = h.counters.delta['TcpExt.TWRecycled']!;
    expect(s).toContain(`connect() took over ${n(recycled)} 4-tuples still in TIME_WAIT (TcpExt.TWRecycled +${n(recycled)}) although net.ipv4.tcp_tw_reuse=0`);
    const notAvail = errorCount(report, ['bound-a', 'bound-b'], 'EADDRNOTAVAIL');
    expect(s).toContain(`EADDRNOTAVAIL ${n(notAvail)} times (connect()): the port bind() chose was in use toward that very destination`);
    expect(s).not.toContain('EADDRINUSE');
  });

  it('plain connect() toward several destinations elsewhere: no error clause where none occurred', () => {
    const report = loadReportFixture('listen-backlog');
    const s = only(runRule(bindBeforeConnectFindings, report), 'Host client');
    expect(s).toContain(`Host client opened ${n(connected(report, ['flood', 'flood-strict']))} connections toward 2 destinations`);
    expect(s).not.toContain('EADDRNOTAVAIL');
  });

  it('says nothing with one destination per host, or a fixed local port', () => {
    expect(runRule(bindBeforeConnectFindings, loadReportFixture('short-conn'))).toEqual([]);
    expect(runRule(bindBeforeConnectFindings, loadReportFixture('rst-close'))).toEqual([]);
    expect(runRule(bindBeforeConnectFindings, loadReportFixture('fixed-local-port'))).toEqual([]);
  });

  it('reacts to the fixture: one destination, no EADDRINUSE, a wider range', () => {
    const one = loadReportFixture('bind-before-connect');
    (one.scenario.plan.actors['bound-b'] as { connect: { port: number } }).connect.port = 8080;
    expect(runRule(bindBeforeConnectFindings, one).some((s) => s.startsWith('Host bound'))).toBe(false);

    const clean = loadReportFixture('bind-before-connect');
    for (const a of ['bound-a', 'bound-b']) delete stats(clean, a)['errors']['EADDRINUSE'];
    const s = only(runRule(bindBeforeConnectFindings, clean), 'Host bound');
    expect(s).not.toContain('EADDRINUSE');
    expect(s).toMatch(/before the destination is known\.$/);

    const wide = loadReportFixture('bind-before-connect');
    host(wide, 'plain').sysctls['net.ipv4.ip_local_port_range'] = '40000 40999';
    expect(only(runRule(bindBeforeConnectFindings, wide), 'Host plain')).toContain(`= ${times(connected(wide, ['plain-a', 'plain-b']), 1000)} x its 1,000-port budget (ip_local_port_range 40000-40999)`);
  });

  it('prints a share below one budget as a percentage, never "= 0 x"', () => {
    // address-in-use-restart: 200 connections toward 4 destinations through 28,232 ports (the run said "= 0.01 x").
    const s = only(runRule(bindBeforeConnectFindings, loadReportFixture('address-in-use-restart')), 'Host client opened');
    expect(s).toContain('Host client opened 200 connections toward 4 destinations (198.18.0.2:8080, 198.18.0.2:8081, 198.18.0.2:8082, 198.18.0.2:8083) = 0.71% of its 28,232-port budget');
    expect(s).not.toMatch(/= 0(\.\d+)? x/);
  });
});
