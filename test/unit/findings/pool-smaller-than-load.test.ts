import { describe, expect, it } from 'vitest';
import { poolSmallerThanLoadFindings } from '../../../src/report/findings/pool-smaller-than-load.ts';
import { predictPoolChurn, waveConnections } from '../../../src/report/pool-churn.ts';
import { contradictions } from '../../../src/report/truth-check.ts';
import type { Report } from '../../../src/report/report.ts';
import { loadReportFixture, runRule } from '../fixture.ts';

/** The fixture with the proxy's connection model changed, as a plan of another engine would record it. */
function withBeyondPool(report: Report, beyondPool: unknown): Report {
  const dial = report.scenario.plan.actors.proxy!.connections!.dials[0]! as unknown as {
    perRequest: Record<string, unknown>;
  };
  dial.perRequest['beyondPool'] = beyondPool;
  return report;
}

describe('waveConnections', () => {
  it('opens the first wave whole, then concurrency - kept per wave', () => {
    expect(waveConnections(1000, 100, 2)).toBe(982);
    expect(waveConnections(1000, 100, 50)).toBe(550);
    // A pool at least the concurrency: the first wave's connections only.
    expect(waveConnections(1000, 100, 100)).toBe(100);
    expect(waveConnections(1000, 100, 500)).toBe(100);
    // Fewer requests than one wave.
    expect(waveConnections(40, 100, 2)).toBe(40);
  });
});

describe('pool-smaller-than-load (fixture: nginx keepalive 2, bursts of 100)', () => {
  it('predicts 982 upstream connections for the 1,000 requests, beside the 980 the proxy host opened', () => {
    const report = loadReportFixture('pool-smaller-than-load');
    const p = predictPoolChurn(report.scenario.plan, report)['proxy']!;
    expect(p).toMatchObject({
      host: 'proxy',
      destination: '198.18.0.3:8080',
      idleKept: 2,
      concurrency: 100,
      arrivals: 'waves',
      requests: 1000,
      predictedConnections: 982,
      measuredConnections: 980,
      predictedTimeWait: 980,
      measuredTimeWait: 978,
    });
    expect(p.ratio).toBeCloseTo(980 / 982, 3);
  });

  it('says keep-alive is on, why the pool still churns, and the cure, with claims its evidence gives again', () => {
    const report = loadReportFixture('pool-smaller-than-load');
    const [text] = runRule(poolSmallerThanLoadFindings, report);
    expect(text).toMatch(
      /^Keep-alive is on at proxy \(host proxy\), but its pool keeps only 2 idle connections toward 198\.18\.0\.3:8080 \(web on host backend\) and 100 requests come at once/,
    );
    expect(text).toContain(
      'Host proxy opened 980 connections (Tcp.ActiveOpens +980) for 1,000 requests (responses of flood): 0.98 per request, 0.982 predicted.',
    );
    expect(text).toContain('peak 978 toward 198.18.0.3:8080');
    const finding = poolSmallerThanLoadFindings({ plan: report.scenario.plan, report })[0]!;
    expect(finding.claims.map((c) => [c.name, c.value])).toEqual([
      ['requests', 1000],
      ['connections', 980],
      ['connectionsPerRequest', 0.98],
      ['peerTimeWait', 978],
    ]);
    expect(
      contradictions(report).filter(
        (c) => report.claims!.find((f) => f.finding === c.finding)?.rule === 'pool-smaller-than-load',
      ),
    ).toEqual([]);
  });

  it('the truth check catches a claim its counters no longer give', () => {
    const report = loadReportFixture('pool-smaller-than-load');
    report.hosts.proxy!.counters.delta['Tcp.ActiveOpens'] = 500;
    const claimed = report.claims!.find((f) => f.rule === 'pool-smaller-than-load')!;
    expect(
      contradictions(report)
        .filter((c) => c.finding === claimed.finding)
        .map((c) => c.claim),
    ).toEqual([
      'connections 980 connections (host proxy, peers backend)',
      'connectionsPerRequest 0.98 connections per request (host proxy, peers backend)',
    ]);
  });

  it('makes no prediction and no finding for a pool that makes requests wait, or one whose plan did not record it', () => {
    for (const beyond of [{ request: 'waits' }, undefined]) {
      const report = withBeyondPool(loadReportFixture('pool-smaller-than-load'), beyond);
      expect(predictPoolChurn(report.scenario.plan, report)).toEqual({});
      expect(runRule(poolSmallerThanLoadFindings, report)).toEqual([]);
    }
  });

  it('with a pool at least the concurrency, predicts the first wave only and says the pool covers the load', () => {
    const report = withBeyondPool(loadReportFixture('pool-smaller-than-load'), {
      request: 'opens-and-closes',
      idleKept: 100,
    });
    const predicted = predictPoolChurn(report.scenario.plan, report);
    report.predictions = {
      ...report.predictions,
      proxy: { ...report.predictions['proxy'], poolChurn: predicted['proxy']! },
    };
    expect(predicted['proxy']).toMatchObject({
      predictedConnections: 100,
      predictedPerRequest: 0.1,
      predictedTimeWait: 0,
    });
    expect(runRule(poolSmallerThanLoadFindings, report)[0]).toMatch(
      /^The pool of proxy \(host proxy\) keeps 100 idle connections toward 198\.18\.0\.3:8080, at least the 100 requests that come at once/,
    );
  });
});
