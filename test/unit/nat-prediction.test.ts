import { describe, expect, it } from 'vitest';
import { predictNatPorts } from '../../src/report/nat-prediction.ts';
import { runOutcome } from '../../src/report/run-outcome.ts';
import { loadReportFixture } from './fixture.ts';

describe("a NAT gateway's translated ports, predicted from the plan", () => {
  it('nat-gateway-snat: pools of 4 x 30 through 100 ports: 100 predicted through, the server held 100, reproduced as predicted', () => {
    const report = loadReportFixture('nat-gateway-snat');
    const p = predictNatPorts(report.scenario.plan, report.hosts);
    expect(Object.keys(p)).toEqual(['from-c1', 'from-c2', 'from-c3', 'from-c4']);
    expect(p['from-c1']).toMatchObject({
      gateway: 'gw',
      destination: '198.18.1.2:8080',
      translatedPorts: 100,
      pooled: 120,
      predictedHeld: 100,
      measuredHeld: 100,
      ratio: 1,
    });
    expect(runOutcome(report, 4000)).toMatchObject({ verdict: 'reproduced as predicted', matched: true });
  });

  it('follows the plan: a range of 200 predicts all 120 through, and the 100 measured are then not as predicted', () => {
    const report = loadReportFixture('nat-gateway-snat');
    const plan = structuredClone(report.scenario.plan) as typeof report.scenario.plan;
    (plan.hosts.gw!.gateway!.masquerade as { ports: { lo: number; hi: number } }).ports = { lo: 50000, hi: 50199 };
    const p = predictNatPorts(plan, report.hosts)['from-c1']!;
    expect(p).toMatchObject({ translatedPorts: 200, predictedHeld: 120, measuredHeld: 100, ratio: 0.833 });
    report.predictions['from-c1'] = { natPorts: p };
    for (const c of ['from-c2', 'from-c3', 'from-c4']) delete report.predictions[c];
    expect(runOutcome(report, 4000)).toMatchObject({ verdict: 'not as predicted', matched: false });
  });

  it("predicts nothing without a port range on the masquerade, or for a flood's short connections", () => {
    for (const name of ['nat-single-source', 'short-conn']) {
      const report = loadReportFixture(name);
      expect(predictNatPorts(report.scenario.plan, report.hosts)).toEqual({});
    }
  });
});
