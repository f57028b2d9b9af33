// The metric registry (core/metric-registry.ts) as threshold and tolerance paths meet it: what a report has is
// accepted, what it cannot have is refused before any lab, naming the part that does not exist, and nothing a
// real report holds is missing from it (issue 21: a hand copy of the report's shape had drifted).
import { describe, expect, it } from 'vitest';
import { PlanValidationError } from '../../src/core/errors.ts';
import { metricOf, metricPathProblem } from '../../src/core/metric-paths.ts';
import { METRICS } from '../../src/core/metric-registry.ts';
import { readPath } from '../../src/core/thresholds.ts';
import { loadPlan } from '../../src/plan/load-plan.ts';
import { metricNamesOf } from '../../src/plan/metric-names.ts';
import { loadReportFixture, reportFixtureNames } from './fixture.ts';

const problemsOf = async (
  thresholds: string[],
  options: { scale?: Record<string, number>; tolerances?: Record<string, string> } = {},
) => {
  const err = await loadPlan('short-conn', {}, { thresholds, ...options }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err === undefined) return [];
  if (!(err instanceof PlanValidationError)) throw err;
  return err.problems;
};

describe('threshold paths checked against the metric registry', () => {
  it("accepts the report's censusRepeats, peak.split and a scaled host's replicas, each a path real reports have", async () => {
    expect(
      await problemsOf(['hosts.client.censusRepeats == 0', 'hosts.client.peak.split.TIME_WAIT.ephemeral > 0']),
    ).toEqual([]);
    expect(
      await problemsOf(
        ['replicas.client.actors.flood.errors.EADDRNOTAVAIL > 0', 'replicas.client.timeWaitPeaks.1 > 0'],
        { scale: { client: 2 } },
      ),
    ).toEqual([]);
    const held = loadReportFixture('short-conn--held-open');
    expect(typeof readPath(held, 'hosts.client.censusRepeats')).toBe('number');
    expect(typeof readPath(held, 'hosts.client.peak.split.ESTABLISHED.ephemeral')).toBe('number');
  });

  it('refuses comparison.*: it is judged by tolerances, after the thresholds, and a threshold on it could only fail as missing', async () => {
    expect(await problemsOf(['comparison.regressions == 0'])).toEqual([
      expect.stringMatching(
        /^--threshold: comparison\.regressions: comparison holds no metric of the run: .*tolerances/,
      ),
    ]);
  });

  it('refuses a path no report can have, naming the part that does not exist', async () => {
    expect(
      await problemsOf([
        'hosts.client.peak.total.NOPE > 0',
        'actors.nobody.ok > 1',
        'predictions.flood.exhaustion.soon > 0',
        'hosts.client.address > 0',
        'hosts.client.perRequest.connectionsOpened < 1',
        'actors.flood.erors.count == 0',
        'actors.flood.errors.EADDRNOTAVIAL.count == 0',
        'actors.flood.errors.EADDRNOTAVAIL.cnt == 0',
      ]),
    ).toEqual([
      expect.stringMatching(
        /^--threshold: hosts\.client\.peak\.total\.NOPE: no TCP state "NOPE" \(known: .*ESTABLISHED.*NEW_SYN_RECV\)$/,
      ),
      '--threshold: actors.nobody.ok: no actor "nobody" (known: web, flood)',
      expect.stringMatching(
        /^--threshold: predictions\.flood\.exhaustion\.soon: no part of exhaustion "soon" \(known: portBudget, connectRate, predictedMs, measuredMs, ratio, plannedRate\)$/,
      ),
      expect.stringMatching(/^--threshold: hosts\.client\.address: no part of host "address"/),
      expect.stringMatching(
        /^--threshold: hosts\.client\.perRequest\.connectionsOpened: connections opened per request is derived for comparisons/,
      ),
      expect.stringMatching(
        /^--threshold: actors\.flood\.erors\.count: no stat "erors" \(did you mean errors\?\) \(known: .*errorCount/,
      ),
      // A misspelt code would read 0 (an error never met) and pass the gate: refused, as a stat is.
      expect.stringMatching(
        /^--threshold: actors\.flood\.errors\.EADDRNOTAVIAL\.count: no error code "EADDRNOTAVIAL" \(did you mean EADDRNOTAVAIL\?\)/,
      ),
      // Not taken as some other stat of the actor's kind: errors.<code> has its own metrics.
      '--threshold: actors.flood.errors.EADDRNOTAVAIL.cnt: no part of error code "cnt" (known: count)',
    ]);
  });

  it("lets a threshold name a stat that is in an actor's entry, dotted ones too", async () => {
    expect(
      await problemsOf([
        'actors.flood.errorCount == 0',
        'actors.flood.firstError.atMs > 0',
        'actors.web.accepted > 0',
        'actors.flood.errors.HTTP_502.count == 0',
        'actors.flood.errors.UND_ERR_SOCKET.count == 0',
        'actors.flood.errors.REQUEST_TIMEOUT.count == 0',
      ]),
    ).toEqual([]);
  });

  it('lets a tolerance name a per-request metric, which only comparisons compute', async () => {
    expect(await problemsOf([], { tolerances: { 'hosts.*.perRequest.connectionsOpened': '+10%' } })).toEqual([]);
  });

  it('every threshold of every report fixture names a metric of the registry', () => {
    for (const name of reportFixtureNames()) {
      const report = loadReportFixture(name);
      for (const t of report.thresholds) {
        const path = t.expression.split(/\s*(?:<=|>=|==|!=|<|>)/)[0]!.trim();
        expect(
          metricPathProblem(path, metricNamesOf(report.scenario.plan), 'threshold'),
          `${name}: ${t.expression}`,
        ).toBeUndefined();
      }
    }
  });

  it('every number a real report holds under hosts, actors, predictions and replicas is a declared metric', () => {
    const skip = /^hosts\.[^.]+\.series(\.|$)|^actors\.[^.]+\.options(\.|$)/;
    for (const name of reportFixtureNames()) {
      const report = loadReportFixture(name);
      const undeclared: string[] = [];
      const walk = (node: unknown, path: string) => {
        if (skip.test(path)) return;
        if (typeof node === 'number') {
          if (!metricOf(path)) undeclared.push(path);
        } else if (node && typeof node === 'object')
          for (const [k, v] of Object.entries(node)) walk(v, path ? `${path}.${k}` : k);
      };
      for (const top of ['hosts', 'actors', 'predictions', 'replicas'] as const) walk(report[top], top);
      expect(undeclared, name).toEqual([]);
    }
  });

  it('declares each path once, each compared metric with a direction that can be worse', () => {
    expect(new Set(METRICS.map((m) => m.path)).size).toBe(METRICS.length);
    for (const m of METRICS.filter((x) => x.tolerance)) expect(m.worse, m.path).not.toBe('neither');
  });
});
