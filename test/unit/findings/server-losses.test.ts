import { describe, expect, it } from 'vitest';
import { rederive } from '../../../src/report/claims/rederive.ts';
import { terminationMeaning } from '../../../src/report/evidence/server-losses.ts';
import { findingsWithClaims } from '../../../src/report/findings/index.ts';
import { serverLossFindings } from '../../../src/report/findings/server-losses.ts';
import { contradictions } from '../../../src/report/truth-check.ts';
import type { Report } from '../../../src/report/report.ts';
import { loadReportFixture, n, only, runRule } from '../fixture.ts';

const proxyLog = (r: Report) =>
  (r.actors['proxy'] as unknown as { errorLog: { causes: Record<string, number>; kinds: Record<string, number> } })
    .errorLog;
const floodErrors = (r: Report) =>
  (r.actors['flood'] as unknown as { errors: Record<string, { count: number }> }).errors;

describe('serverLossFindings', () => {
  it("proxy-worker-connections: nginx's worker_connections lines by count, and the requests its client lost by code", () => {
    const report = loadReportFixture('proxy-worker-connections');
    const log = proxyLog(report);
    const errors = floodErrors(report);
    const s = only(runRule(serverLossFindings, report), 'worker_connections');
    expect(s).toContain(
      `On host proxy, nginx 1.22.1 (actor proxy) logged "16 worker_connections are not enough" ${n(log.kinds['16 worker_connections are not enough']!)} times`,
    );
    expect(s).toContain(
      `by cause: workerConnections ${n(log.causes['workerConnections']!)} (no connection slot was left`,
    );
    const lost = Object.values(errors).reduce((a, e) => a + e.count, 0);
    expect(s).toContain(
      `Its clients (actor flood on host client) lost ${n(lost)} of ${n(3084)} requests: EOF_BEFORE_RESPONSE ${n(errors['EOF_BEFORE_RESPONSE']!.count)}, ECONNRESET ${n(errors['ECONNRESET']!.count)}.`,
    );
    // The run: nginx wrote 2,799 lines and its client lost 3,021 requests; the drain of idle connections is said.
    expect([log.causes['workerConnections'], lost]).toEqual([2799, 3021]);
    expect(s).toContain('"reusing connections" at most once a second');
  });

  it("its claims re-derive from the actors' stats, and the truth check finds nothing against them", () => {
    const report = loadReportFixture('proxy-worker-connections');
    const [finding] = serverLossFindings({ plan: report.scenario.plan, report });
    expect(finding!.claims.map((c) => [c.name, c.value, c.unit])).toEqual([
      ['serverLosses', 2799, 'log lines'],
      ['clientErrors', 3021, 'requests'],
    ]);
    for (const c of finding!.claims)
      expect(rederive({ plan: report.scenario.plan, report }, c)).toEqual({ value: c.value });
    const { findings, claims } = findingsWithClaims(report.scenario.plan, report);
    expect(claims.some((c) => c.rule === 'server-losses')).toBe(true);
    expect(contradictions({ ...report, findings, claims })).toEqual([]);
    // A claim whose number its evidence does not give is one (past the check's rounding of 0.05%).
    const wrong = claims.map((c) =>
      c.rule === 'server-losses' ? { ...c, claims: c.claims.map((k) => ({ ...k, value: k.value + 10 })) } : c,
    );
    expect(contradictions({ ...report, findings, claims: wrong }).length).toBe(2);
  });

  it("proxy-short-upstream (502 run): nginx out of upstream ports, its client's HTTP_502 beside it", () => {
    const report = loadReportFixture('proxy-short-upstream--http-502');
    const s = only(runRule(serverLossFindings, report), '(actor proxy)');
    expect(s).toContain(
      'logged "connect() to 198.18.0.3:8080 failed (99: Cannot assign requested address) while connecting to upstream" 1,000 times; by cause: portsExhausted 1,000',
    );
    expect(s).toContain('Its clients (actor flood on host client) lost 1,000 of 2,000 requests: HTTP_502 1,000.');
  });

  it('a run without server-side losses has no such finding', () => {
    expect(runRule(serverLossFindings, loadReportFixture('proxy-keepalive-upstream'))).toEqual([]);
  });

  it("HAProxy termination states: losses on the server side in words, a client's abort none", () => {
    expect(terminationMeaning('sQ--/503')).toBe('the queue timeout expired before a server was free (status 503)');
    expect(terminationMeaning('SC--/503')).toBe(
      'the server aborted or refused while connecting to the server (status 503)',
    );
    expect(terminationMeaning('----/502')).toBe('status 502 passed on from the server');
    expect(terminationMeaning('CD--/200')).toBeUndefined();
    expect(terminationMeaning('cR--/408')).toBeUndefined();
  });
});
