// Comparisons on pairs of real reports (test/fixtures/compare: proxy-keepalive-upstream run twice as it ships,
// and once with its upstream keep-alive pool turned off), baselines from several runs, and the tolerance grammar.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTolerance, parseToleranceOverride } from '../../src/core/tolerance.ts';
import { summarizeBaseline } from '../../src/report/baseline.ts';
import { baselineOf, compareReports, reportMetrics, toleranceRules } from '../../src/report/compare.ts';
import type { Report } from '../../src/report/report.ts';
import { loadReportFixture } from './fixture.ts';

/** The flood's entry with the stats these tests change (a short-conn-client's). */
const flood = (r: Report) =>
  r.actors.flood as unknown as { attempts: number; latencyMs: Record<string, number>; errors: Record<string, unknown> };
const load = (name: string) =>
  JSON.parse(
    readFileSync(new URL(`../fixtures/compare/proxy-keepalive-upstream.${name}.json`, import.meta.url), 'utf8'),
  ) as Report;

describe('compareReports', () => {
  it('passes two runs of the same scenario, every compared metric within its tolerance', () => {
    const c = compareReports(baselineOf(load('base'), 'base'), load('base2'), 'base2');
    expect(c.verdict).toBe('pass');
    expect(c.regressions).toBe(0);
    expect(c.warnings).toEqual([]);
    expect(c.metrics.length).toBeGreaterThan(10);
    expect(c.metrics.map((m) => m.path)).toContain('hosts.proxy.perRequest.connectionsOpened');
  });

  it('compares connections opened and TIME_WAIT entered per request, so a longer run of the same configuration passes (issue 21, Why 9)', () => {
    const base = load('base');
    const longer = load('base2');
    // Twice the requests: every total doubles, nothing per request changes.
    for (const h of Object.values(longer.hosts))
      for (const k of Object.keys(h.counters.delta)) h.counters.delta[k]! *= 2;
    for (const a of Object.values(longer.actors) as Record<string, unknown>[])
      for (const k of ['attempts', 'ok', 'connected']) if (typeof a[k] === 'number') a[k] = (a[k] as number) * 2;
    const c = compareReports(baselineOf(base, 'base'), longer, 'longer');
    const requests = flood(base).attempts;
    const perRequest = c.metrics.filter((m) => /^hosts\.[^.]+\.perRequest\./.test(m.path));
    expect(perRequest.map((m) => m.path).sort()).toEqual(
      Object.keys(base.hosts)
        .flatMap((h) => [`hosts.${h}.perRequest.connectionsOpened`, `hosts.${h}.perRequest.timeWaitEntered`])
        .sort(),
    );
    const proxy = perRequest.find((m) => m.path === 'hosts.proxy.perRequest.connectionsOpened')!;
    expect(proxy).toMatchObject({
      kind: 'connections opened per request',
      baseline: Math.round((base.hosts.proxy!.counters.delta['Tcp.ActiveOpens']! / requests) * 10_000) / 10_000,
    });
    expect(proxy.verdict).not.toBe('regression');
    expect(c.metrics.map((m) => m.path)).not.toContain('hosts.client.counters.delta.Tcp.ActiveOpens');
    expect(c.verdict).toBe('pass');
  });

  it('fails a run that lost its upstream keep-alive: the proxy opened a connection per request and held their TIME_WAIT', () => {
    const base = load('base');
    const worse = load('no-keepalive');
    const c = compareReports(baselineOf(base, 'base'), worse, 'worse');
    expect(c.verdict).toBe('regression');
    const opens = c.metrics.find((m) => m.path === 'hosts.proxy.perRequest.connectionsOpened')!;
    const perRequest = (r: Report) =>
      Math.round((r.hosts.proxy!.counters.delta['Tcp.ActiveOpens']! / flood(r).attempts) * 10_000) / 10_000;
    expect(opens).toMatchObject({ verdict: 'regression', baseline: perRequest(base), current: perRequest(worse) });
    expect(opens.current).toBeGreaterThan(opens.baseline * 10);
    const tw = c.metrics.find((m) => m.path === 'hosts.proxy.peak.total.TIME_WAIT')!;
    expect(tw).toMatchObject({
      verdict: 'regression',
      baseline: base.hosts.proxy!.peak.total.TIME_WAIT,
      current: worse.hosts.proxy!.peak.total.TIME_WAIT,
    });
    // Worst first: every regression comes before anything within tolerance.
    const firstOk = c.metrics.findIndex((m) => m.verdict === 'ok');
    expect(c.metrics.slice(0, firstOk).every((m) => m.verdict === 'regression' || m.verdict === 'missing')).toBe(true);
    expect(c.regressions).toBe(firstOk);
    expect(c.warnings).toEqual(['different parameters: keepAlive 16 -> 0']);
  });

  it('a metric the baseline has and the run lacks is a regression, never a pass', () => {
    const current = load('base2');
    delete (current.actors.flood as Record<string, unknown>)['achievedRate'];
    const c = compareReports(baselineOf(load('base'), 'base'), current, 'current');
    expect(c.metrics[0]).toMatchObject({ path: 'actors.flood.achievedRate', verdict: 'missing', current: null });
    expect(c.verdict).toBe('regression');
  });

  it('an error code the baseline never saw may not appear at all', () => {
    const current = load('base2');
    (current.actors.flood as { errors: Record<string, unknown> }).errors['ECONNRESET'] = {
      count: 1,
      syscalls: { read: 1 },
      firstAtMs: 1000,
    };
    const c = compareReports(baselineOf(load('base'), 'base'), current, 'current');
    expect(c.metrics.find((m) => m.path === 'actors.flood.errors.ECONNRESET.count')).toMatchObject({
      baseline: 0,
      current: 1,
      verdict: 'regression',
    });
  });

  it('an absolute tolerance allows that much change whatever the baseline, even from 0', () => {
    const base = baselineOf(load('base'), 'base');
    const worse = load('no-keepalive');
    const tw = worse.hosts.proxy!.peak.total.TIME_WAIT;
    const within = compareReports(base, worse, 'w', toleranceRules({ 'hosts.proxy.peak.total.TIME_WAIT': `+${tw}` }));
    const beyond = compareReports(
      base,
      worse,
      'w',
      toleranceRules({ 'hosts.proxy.peak.total.TIME_WAIT': `+${tw - 1}` }),
    );
    const verdict = (c: typeof within) => c.metrics.find((m) => m.path === 'hosts.proxy.peak.total.TIME_WAIT')!.verdict;
    expect(base.metrics['hosts.proxy.peak.total.TIME_WAIT']).toBe(0);
    expect(verdict(within)).toBe('ok');
    expect(verdict(beyond)).toBe('regression');
  });

  it('tolerances from the scenario and the command line come before the defaults', () => {
    const base = baselineOf(load('base'), 'base');
    const current = load('base2');
    const exact = toleranceRules({ 'actors.flood.latencyMs.p99': '0' });
    const loose = compareReports(base, current, 'c');
    const strict = compareReports(base, current, 'c', exact);
    const p99 = (c: typeof loose) => c.metrics.find((m) => m.path === 'actors.flood.latencyMs.p99')!;
    expect(p99(loose).tolerance).toBe('+25%');
    expect(p99(strict).tolerance).toBe('0');
    // Two real runs never have the same p99 to the microsecond: "0" makes that a regression.
    expect(p99(strict).current).not.toBe(p99(strict).baseline);
    expect(p99(strict).verdict).toBe('regression');
  });

  it('refuses runs of different scenarios, and says when the kernels differ', () => {
    expect(() => compareReports(baselineOf(load('base'), 'b'), loadReportFixture('short-conn'), 'c')).toThrow(
      /different scenarios/,
    );
    const other = load('base2');
    other.environment.kernel = '6.1.0-other';
    expect(compareReports(baselineOf(load('base'), 'b'), other, 'c').warnings[0]).toMatch(
      /different kernels: the baseline ran on .* the current run on 6\.1\.0-other/,
    );
  });
});

describe('a baseline from several runs', () => {
  it("keeps each metric's median and range, and names those noisier than their tolerance", () => {
    const a = load('base');
    const b = load('base2');
    const c = load('base2');
    c.hosts.client!.counters.delta['Tcp.ActiveOpens'] = 1000;
    const baseline = summarizeBaseline([a, b, c], ['run-1', 'run-2', 'run-3']);
    const path = 'hosts.client.perRequest.connectionsOpened';
    expect(baseline.metrics[path]).toBe(1);
    expect(baseline.min[path]).toBe(1);
    expect(baseline.max[path]).toBe(2.5);
    expect(baseline.spread[path]).toBe(1.5);
    expect(baseline.noisy).toContainEqual({ path, spread: 1.5, tolerance: '+20%', widened: 'informational' });
    expect(baseline.noisy.map((n) => n.path)).not.toContain('actors.flood.ok');
    expect(Object.keys(baseline.metrics).sort()).toEqual(Object.keys(reportMetrics(a)).sort());
  });
});

describe('a noisy baseline (issue 21, Why 9)', () => {
  // Three runs of one configuration: ECONNRESET 0, 0, 2 and a p99 spread of 30%, as unchanged runs do.
  const runs = () => {
    const [a, b, c] = [load('base'), load('base2'), load('base2')];
    const p99 = flood(a).latencyMs['p99']!;
    flood(b).latencyMs['p99'] = p99 * 0.85;
    flood(c).latencyMs['p99'] = p99 * 1.15;
    flood(c).errors['ECONNRESET'] = { count: 2, syscalls: { read: 2 }, firstAtMs: 1000 };
    return [a, b, c] as const;
  };
  const widenedBaseline = () => {
    const file = summarizeBaseline(runs(), ['run-1', 'run-2', 'run-3']);
    return {
      file,
      baseline: {
        identity: file.identity,
        metrics: file.metrics,
        spread: file.spread,
        widened: Object.fromEntries(file.noisy.flatMap((n) => (n.widened ? [[n.path, n.widened]] : []))),
      },
    };
  };

  it("widens a noisy metric's tolerance to twice its spread, and records one noisy from 0 as informational", () => {
    const { file } = widenedBaseline();
    expect(file.noisy).toContainEqual({
      path: 'actors.flood.errors.ECONNRESET.count',
      spread: 2,
      tolerance: '+10%',
      widened: 'informational',
    });
    expect(file.noisy).toContainEqual({
      path: 'actors.flood.latencyMs.p99',
      spread: 0.3,
      tolerance: '+25%',
      widened: '+60%',
    });
  });

  it('an unchanged configuration passes compare against it: the noisy metrics alone no longer fail it', () => {
    const { baseline } = widenedBaseline();
    const [, , again] = runs();
    const c = compareReports(baseline, again, 'again');
    expect(c.metrics.find((m) => m.path === 'actors.flood.errors.ECONNRESET.count')).toMatchObject({
      verdict: 'ok',
      current: 2,
      tolerance: 'informational (noisy baseline, was +10%)',
    });
    expect(c.metrics.find((m) => m.path === 'actors.flood.latencyMs.p99')).toMatchObject({
      verdict: 'ok',
      tolerance: '+60% (noisy baseline, was +25%)',
    });
    expect(c.verdict).toBe('pass');
  });

  it('a widened tolerance still catches a change beyond it', () => {
    const { baseline } = widenedBaseline();
    const slower = load('base2');
    flood(slower).latencyMs['p99'] = baseline.metrics['actors.flood.latencyMs.p99']! * 1.7;
    expect(
      compareReports(baseline, slower, 'slower').metrics.find((m) => m.path === 'actors.flood.latencyMs.p99')!.verdict,
    ).toBe('regression');
  });
});

describe('tolerance grammar', () => {
  it('reads which way is worse and how far', () => {
    expect(parseTolerance('+20%')).toEqual({ worse: 'up', amount: 0.2, relative: true, text: '+20%' });
    expect(parseTolerance('-10%')).toEqual({ worse: 'down', amount: 0.1, relative: true, text: '-10%' });
    expect(parseTolerance('±5%')).toEqual({ worse: 'both', amount: 0.05, relative: true, text: '±5%' });
    expect(parseTolerance('+100')).toEqual({ worse: 'up', amount: 100, relative: false, text: '+100' });
    expect(parseTolerance('0')).toEqual({ worse: 'both', amount: 0, relative: false, text: '0' });
    expect(parseToleranceOverride('hosts.*.peak.total.TIME_WAIT=+10%')).toMatchObject({
      pattern: 'hosts.*.peak.total.TIME_WAIT',
      tolerance: { worse: 'up', amount: 0.1 },
    });
  });

  it('refuses what it cannot read', () => {
    expect(() => parseTolerance('lots')).toThrow(/not a tolerance/);
    expect(() => parseToleranceOverride('no-equals-sign')).toThrow(/expected <path pattern>=<tolerance>/);
    expect(() => parseToleranceOverride('hosts/x=+1%')).toThrow(/not a report path pattern/);
  });
});
