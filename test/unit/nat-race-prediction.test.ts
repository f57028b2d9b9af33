import { describe, expect, it } from 'vitest';
import { predictNatRace } from '../../src/report/nat-race-prediction.ts';
import { stat } from '../../src/report/report.ts';
import { host, loadReportFixture } from './fixture.ts';

const CLIENTS = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8'];

describe('SYNs sharing a source port behind a NAT gateway, predicted from the plan', () => {
  it('nat-gateway-insert-race: 8 clients x 1 connection from one source port: 7 in 8 SYNs find it held, measured as Conntrack.found over connections', () => {
    const report = loadReportFixture('nat-gateway-insert-race');
    const p = predictNatRace(report.scenario.plan, report);
    expect(Object.keys(p)).toEqual(CLIENTS.map((c) => `from-${c}`));
    const connections = CLIENTS.reduce((s, c) => s + (stat(report.actors[`from-${c}`], 'connected') ?? 0), 0);
    const found = host(report, 'gw').counters.delta['Conntrack.found']!;
    expect(p['from-c1']).toMatchObject({
      gateway: 'gw',
      destination: '198.18.1.2:8080',
      atOnce: 8,
      sharedSourcePorts: 1,
      translatedPorts: 64512,
      randomFully: false,
      predictedShare: 0.875,
      found,
      connections,
    });
    expect(p['from-c1']!.measuredShare).toBe(Math.round((found / connections) * 1000) / 1000);
    expect(p['from-c1']!.ratio).toBe(Math.round((p['from-c1']!.measuredShare! / 0.875) * 1000) / 1000);
    expect(p['from-c8']).toEqual({ ...p['from-c1'], actor: 'from-c8' });
  });

  it('with fully-random no SYN keeps its port: 0 predicted, no ratio, whatever found says', () => {
    const report = loadReportFixture('nat-gateway-insert-race--random-fully');
    const p = predictNatRace(report.scenario.plan, report)['from-c1']!;
    expect(p).toMatchObject({
      randomFully: true,
      predictedShare: 0,
      ratio: null,
      found: host(report, 'gw').counters.delta['Conntrack.found'],
    });
  });

  it('follows the plan: 4 connections at once per client from one port is 1 - 1/32; a masquerade range is what it translates into', () => {
    const report = loadReportFixture('nat-gateway-insert-race');
    const plan = structuredClone(report.scenario.plan) as typeof report.scenario.plan;
    for (const c of CLIENTS) (plan.actors[`from-${c}`]!.connections!.load as { concurrency: number }).concurrency = 4;
    (plan.hosts.gw!.gateway!.masquerade as { ports?: { lo: number; hi: number } }).ports = { lo: 50000, hi: 50099 };
    expect(predictNatRace(plan, report)['from-c1']).toMatchObject({
      atOnce: 32,
      predictedShare: 0.969,
      translatedPorts: 100,
    });
  });

  it("predicts nothing where the clients' ranges differ, are wider than their connections at once, or the load is pooled or open", () => {
    const wide = loadReportFixture('nat-gateway-insert-race');
    for (const c of CLIENTS) host(wide, c).sysctls['net.ipv4.ip_local_port_range'] = '40000\t40099';
    expect(predictNatRace(wide.scenario.plan, wide)).toEqual({});
    const differ = loadReportFixture('nat-gateway-insert-race');
    host(differ, 'c8').sysctls['net.ipv4.ip_local_port_range'] = '40001\t40001';
    expect(predictNatRace(differ.scenario.plan, differ)).toEqual({});
    for (const name of ['nat-gateway-snat', 'nat-single-source', 'short-conn']) {
      const report = loadReportFixture(name);
      expect(predictNatRace(report.scenario.plan, report)).toEqual({});
    }
  });
});
