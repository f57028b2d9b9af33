// A comparison of the keep-alive race's fixes, from the reports of real runs (fixtures): a run whose clients saw
// no 502 while nginx still logged the upstream closes and resets hid the race (its retries sent the requests
// again); only a run where those losses stopped too cured it. Headline, findings across the runs and JSON agree.
import { describe, expect, it } from 'vitest';
import { compareRuns, matrixRun } from '../../src/report/matrix.ts';
import { matrixHeader, matrixText } from '../../src/outputs/matrix-summary.ts';
import { loadReportFixture, n } from './fixture.ts';

describe('keepalive-idle-race compared across its fixes', () => {
  const none = matrixRun(loadReportFixture('keepalive-idle-race'), 'fix=none', '01', { fix: 'none' });
  const above = matrixRun(
    loadReportFixture('keepalive-idle-race--backend-idle-above-proxy'),
    'fix=backend-idle-above-proxy',
    '02',
    { fix: 'backend-idle-above-proxy' },
  );
  const retries = matrixRun(
    loadReportFixture('keepalive-idle-race--retry-non-idempotent'),
    'fix=retry-non-idempotent',
    '03',
    { fix: 'retry-non-idempotent' },
  );
  const c = compareRuns('keepalive-idle-race', [none, above, retries], 'fix', {});
  const was = none.errors['HTTP_502']!;
  const lost = (r: typeof none) => Object.fromEntries(r.serverLosses.map((k) => [k, r.errors[k]!]));

  it("the reference run's 502s came with nginx's own losses; the retry run kept the losses, the backend fix had none", () => {
    expect(was).toBeGreaterThan(0);
    expect(Object.keys(lost(none)).sort()).toEqual(expect.arrayContaining(['proxy upstreamClosedEarly']));
    expect(retries.errors['HTTP_502'] ?? 0).toBe(0);
    expect(Object.values(lost(retries)).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(above.errors['HTTP_502'] ?? 0).toBe(0);
    expect(above.serverLosses).toEqual([]);
  });

  it('only the backend fix is a cure; the retry run is listed as hidden, with the losses that went on', () => {
    expect(c.problem).toEqual({ code: 'HTTP_502', count: was });
    expect(c.cures.map((k) => k.label)).toEqual(['fix=backend-idle-above-proxy']);
    const stillLost = Object.fromEntries(Object.entries(lost(retries)).filter(([k]) => (none.errors[k] ?? 0) > 0));
    expect(c.hidden).toEqual([{ label: 'fix=retry-non-idempotent', code: 'HTTP_502', before: was, stillLost }]);
  });

  it('the headline and the findings across the runs never call the retry run cured', () => {
    const [headline] = matrixHeader(c);
    expect(headline).toContain(`fix=backend-idle-above-proxy cured it: 0 of ${n(was)} HTTP_502`);
    expect(headline).toContain(
      `fix=retry-non-idempotent hid it without curing it: 0 of ${n(was)} HTTP_502 at the clients, while the server side went on losing requests (proxy upstream`,
    );
    expect(headline).not.toMatch(/fix=retry-non-idempotent cured/);
    expect(c.findings).toContain(`fix=backend-idle-above-proxy removed all ${n(was)} HTTP_502.`);
    expect(c.findings.find((f) => f.startsWith('fix=retry-non-idempotent') && f.includes('HTTP_502'))).toMatch(
      new RegExp(
        `^fix=retry-non-idempotent hid all ${n(was)} HTTP_502 from the clients without curing it: the server side still lost requests the same way \\(proxy upstream`,
      ),
    );
    expect(matrixText(c)).not.toMatch(/retry-non-idempotent (removed|cured)/);
    // The sweep's sentences keep the runs without a client error apart from the one that hid them.
    expect(c.findings).toContain('No failure at fix backend-idle-above-proxy.');
    expect(c.findings).toContain(
      'No failure reached the clients at fix retry-non-idempotent, where the server side still lost requests: hidden, not cured.',
    );
  });

  it('with the retry run alone beside the reference, the headline says no run cured it', () => {
    const alone = compareRuns('keepalive-idle-race', [none, retries], 'fix', {});
    expect(alone.cures).toEqual([]);
    expect(matrixHeader(alone)[0]).toMatch(
      new RegExp(
        `^keepalive-idle-race: 2 runs, fix swept: no run cured it: ${n(was)} HTTP_502 in fix=none\\. fix=retry-non-idempotent hid it without curing it`,
      ),
    );
  });
});
