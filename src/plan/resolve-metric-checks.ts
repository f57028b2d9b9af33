// A plan's thresholds and regression tolerances: the scenario's own with those of the command line, each naming a
// metric the plan's hosts and actors really have.
import { metricPathProblem, type MetricNames } from '../core/metric-paths.ts';
import { parseThreshold } from '../core/thresholds.ts';
import { parseTolerance, pathPattern } from '../core/tolerance.ts';
import type { ScenarioSpec } from '../core/scenario.ts';

/** `fromCli`: the --threshold expressions, after the scenario's. `metricNames`: metricNamesOf the plan. */
export function resolveThresholds(
  spec: ScenarioSpec,
  fromCli: readonly string[],
  metricNames: MetricNames,
): { thresholds: string[]; problems: string[] } {
  const problems: string[] = [];
  const thresholds = [...(spec.thresholds ?? []), ...fromCli];
  const cli = new Set(fromCli);
  for (const expr of thresholds) {
    const where = cli.has(expr) ? '--threshold' : 'thresholds';
    try {
      const problem = metricPathProblem(parseThreshold(expr).path, metricNames, 'threshold');
      if (problem) problems.push(`${where}: ${problem}`);
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message}`);
    }
  }
  return { thresholds, problems };
}

/** `fromCli`: the --tolerance patterns, over the scenario's `regressions`. */
export function resolveRegressions(
  spec: ScenarioSpec,
  fromCli: Readonly<Record<string, string>> | undefined,
  metricNames: MetricNames,
): { regressions: Record<string, string>; problems: string[] } {
  const problems: string[] = [];
  const regressions: Record<string, string> = { ...(spec.regressions ?? {}), ...(fromCli ?? {}) };
  for (const [pattern, tolerance] of Object.entries(regressions)) {
    const where = fromCli && Object.hasOwn(fromCli, pattern) ? '--tolerance' : 'regressions';
    try {
      parseTolerance(tolerance);
      pathPattern(pattern);
      const problem = metricPathProblem(pattern, metricNames, 'tolerance');
      if (problem) problems.push(`${where}: ${problem}`);
    } catch (err) {
      problems.push(`${where}: ${pattern}: ${(err as Error).message}`);
    }
  }
  return { regressions, problems };
}
