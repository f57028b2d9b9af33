import { describe, expect, it } from 'vitest';
import { portBudget, sameParityPorts } from '../../src/core/port-budget.ts';
import { predict } from '../../src/report/predictions.ts';
import type { Report } from '../../src/report/report.ts';
import { host, loadReportFixture, reportFixtureNames, stats } from './fixture.ts';

const run = (report: Report) => predict(report.scenario.plan, report.hosts, report.actors);
const ratio = (measured: number, predicted: number) => Math.round((measured / predicted) * 1000) / 1000;

describe('portBudget', () => {
  it('counts ip_local_port_range, in the sysctl\'s own form or LO-HI', () => {
    expect(portBudget({ 'net.ipv4.ip_local_port_range': '40000 40999' })).toEqual({ budget: 1000, range: '40000-40999' });
    expect(portBudget({ 'net.ipv4.ip_local_port_range': '32768\t60999', 'net.ipv4.ip_local_reserved_ports': '' })).toEqual({ budget: 28232, range: '32768-60999' });
    expect(portBudget({ 'net.ipv4.ip_local_port_range': '40000-40000' })).toEqual({ budget: 1, range: '40000-40000' });
  });

  it('takes out ip_local_reserved_ports inside the range only: single ports, ranges, and ranges across an end', () => {
    const range = { 'net.ipv4.ip_local_port_range': '40000 40999' };
    expect(portBudget({ ...range, 'net.ipv4.ip_local_reserved_ports': '40500' })!.budget).toBe(999);
    expect(portBudget({ ...range, 'net.ipv4.ip_local_reserved_ports': '40000-40009,40500' })!.budget).toBe(989);
    // 39990-40004 overlaps the low end by 5 ports, 40995-41010 the high end by 5; 8080 and 50000-50010 lie outside.
    expect(portBudget({ ...range, 'net.ipv4.ip_local_reserved_ports': '8080,39990-40004,40995-41010,50000-50010' })!.budget).toBe(990);
    expect(portBudget({ ...range, 'net.ipv4.ip_local_reserved_ports': '30000-50000' })!.budget).toBe(0);
    expect(portBudget({ ...range, 'net.ipv4.ip_local_reserved_ports': '40000-40999' })).toEqual({ budget: 0, range: '40000-40999' });
  });

  it('has no budget without a range', () => {
    expect(portBudget({})).toBeUndefined();
    expect(portBudget({ 'net.ipv4.ip_local_port_range': '' })).toBeUndefined();
  });

  it('matches every fixture host\'s own read-back range', () => {
    const report = loadReportFixture('short-conn');
    expect(portBudget(host(report, 'client').sysctls)).toEqual({ budget: 1000, range: '40000-40999' });
  });
});

describe('sameParityPorts', () => {
  it('counts the ports of lo-hi with lo\'s parity', () => {
    expect(sameParityPorts('40000-40199')).toBe(100);
    expect(sameParityPorts('40000-40999')).toBe(500);
    expect(sameParityPorts('40000-40998')).toBe(500);
    expect(sameParityPorts('40001-40999')).toBe(500);
    expect(sameParityPorts('40000-40000')).toBe(1);
    expect(sameParityPorts('40000-40001')).toBe(1);
    expect(sameParityPorts('40000-40002')).toBe(2);
    expect(sameParityPorts('32768 60999')).toBe(14116);
  });
});

describe('predict', () => {
  it('reproduces the predictions recorded in every fixture', () => {
    for (const name of reportFixtureNames()) {
      const report = loadReportFixture(name);
      expect(run(report), name).toEqual(report.predictions);
    }
  });

  it('short-conn: the port budget, exhaustion time = budget / connect rate, and TIME_WAIT on the client', () => {
    const report = loadReportFixture('short-conn');
    const flood = stats(report, 'flood');
    const { exhaustion, timeWait } = run(report)['flood']!;
    const rate = Number(flood['connectRate']);
    const predictedMs = Math.round((1000 / rate) * 1000);
    const measuredMs = Math.round(flood['errors']['EADDRNOTAVAIL'].firstAtMs - flood['startedAtMs']);
    expect(exhaustion).toEqual({
      actor: 'flood',
      host: 'client',
      portBudget: 1000,
      portRange: '40000-40999',
      connectRate: Math.round(rate * 10) / 10,
      predictedMs,
      measuredMs,
      ratio: ratio(measuredMs, predictedMs),
    });
    const client = host(report, 'client');
    const predicted = Math.min(1000, Math.round(rate * Math.min(Number(flood['durationMs']) / 1000, 60)));
    expect(predicted).toBe(1000);
    expect(timeWait).toEqual({
      actor: 'flood',
      host: 'client',
      closer: 'client',
      predicted,
      measured: client.peak.ephemeral.TIME_WAIT,
      ratio: ratio(client.peak.ephemeral.TIME_WAIT, predicted),
      ofPortBudget: ratio(client.peak.ephemeral.TIME_WAIT, 1000),
    });
  });

  it('short-conn with tcp_tw_reuse=1: no EADDRNOTAVAIL, so no measured time and no ratio', () => {
    const report = loadReportFixture('short-conn--tw-reuse-1');
    const flood = stats(report, 'flood');
    const { exhaustion, timeWait } = run(report)['flood']!;
    expect(flood['errors']['EADDRNOTAVAIL']).toBeUndefined();
    expect(exhaustion!.predictedMs).toBe(Math.round((1000 / Number(flood['connectRate'])) * 1000));
    expect(exhaustion!.measuredMs).toBeNull();
    expect(exhaustion!.ratio).toBeNull();
    expect(timeWait!.measured).toBe(host(report, 'client').peak.ephemeral.TIME_WAIT);
    expect(timeWait!.ofPortBudget).toBe(ratio(host(report, 'client').peak.ephemeral.TIME_WAIT, 1000));
  });

  it('server-close: the server holds TIME_WAIT, bounded by the client\'s same-parity ports', () => {
    const report = loadReportFixture('server-close');
    const flood = stats(report, 'flood');
    const { exhaustion, timeWait } = run(report)['flood']!;
    expect(exhaustion!.portBudget).toBe(200);
    expect(exhaustion!.measuredMs).toBeNull();
    const byRate = Math.round(Number(flood['connectRate']) * Math.min(Number(flood['durationMs']) / 1000, 60));
    const server = host(report, 'server');
    expect(timeWait).toEqual({
      actor: 'flood',
      host: 'server',
      closer: 'server',
      predicted: Math.min(sameParityPorts('40000-40199'), byRate),
      measured: server.peak.listen.TIME_WAIT,
      ratio: ratio(server.peak.listen.TIME_WAIT, Math.min(100, byRate)),
      ofPortBudget: null,
    });
  });

  it('tw-bucket-overflow: tcp_max_tw_buckets caps the predicted TIME_WAIT', () => {
    const report = loadReportFixture('tw-bucket-overflow');
    const tw = run(report)['flood']!.timeWait!;
    expect(host(report, 'client').sysctls['net.ipv4.tcp_max_tw_buckets']).toBe('100');
    expect(tw.predicted).toBe(100);
    expect(tw.ofPortBudget).toBe(ratio(host(report, 'client').peak.ephemeral.TIME_WAIT, 300));
  });

  it('predicts no TIME_WAIT where a side closes by RST or never closes', () => {
    const cases: [string, string[]][] = [
      ['rst-close', ['rst-flood', 'flood']],
      ['close-wait-leak', ['flood']],
      ['fin-wait-2', ['flood', 'shut-flood']],
      ['reset-and-broken-pipe', ['upload', 'late-writer']],
    ];
    for (const [name, actors] of cases) {
      const p = run(loadReportFixture(name));
      for (const a of actors) {
        expect(p[a]!.timeWait!.predicted, `${name} ${a}`).toBe(0);
        expect(p[a]!.timeWait!.ratio, `${name} ${a}`).toBeNull();
      }
    }
  });

  it('no exhaustion prediction for a flood that binds first; its TIME_WAIT prediction stays', () => {
    const fixed = run(loadReportFixture('fixed-local-port'));
    for (const a of ['from-noreuse', 'from-reuse', 'from-nots', 'from-srvclose']) {
      expect(fixed[a]!.exhaustion).toBeUndefined();
      expect(fixed[a]!.timeWait).toBeDefined();
    }
    const bound = run(loadReportFixture('bind-before-connect'));
    expect(bound['bound-a']!.exhaustion).toBeUndefined();
    expect(bound['plain-a']!.exhaustion!.portBudget).toBe(500);
  });

  it('only short-conn clients are predicted: not the keep-alive client', () => {
    expect(Object.keys(run(loadReportFixture('keepalive-vs-close')))).toEqual(['flood']);
  });

  it('reacts to the fixture: reserved ports shrink the budget and move the predicted time; a server that never closes', () => {
    const report = loadReportFixture('short-conn');
    host(report, 'client').sysctls['net.ipv4.ip_local_reserved_ports'] = '40000-40099';
    const rate = Number(stats(report, 'flood')['connectRate']);
    const { exhaustion, timeWait } = run(report)['flood']!;
    expect(exhaustion!.portBudget).toBe(900);
    expect(exhaustion!.predictedMs).toBe(Math.round((900 / rate) * 1000));
    expect(timeWait!.predicted).toBe(900);

    const never = loadReportFixture('short-conn');
    (never.scenario.plan.actors['web']!.options as Record<string, unknown>)['closeStyle'] = 'never';
    expect(run(never)['flood']!.timeWait!.predicted).toBe(0);
  });
});
