// compare(): a run against a baseline, as `waitlab compare` does it, for the CLI and for programs alike.
import { resolve } from 'node:path';
import { UsageError } from '../core/errors.ts';
import { metricPathProblem } from '../core/metric-paths.ts';
import { metricNamesOf } from '../plan/metric-names.ts';
import { compareReports, toleranceRules } from '../report/compare.ts';
import type { Baseline, Comparison } from '../report/comparison.ts';
import { readBaseline, readReport } from '../report/report-file.ts';
import type { Report } from '../report/report.ts';

export interface CompareOptions {
  /** Report path pattern -> tolerance ('+20%', '-10%', '±5%'), over the run's scenario's `regressions` and the defaults. */
  readonly tolerance?: Readonly<Record<string, string>>;
  /** How the current run is named in the comparison; default its path, or its run directory's name. */
  readonly label?: string;
}

/**
 * Compares a run (a run directory, a report.json, or a Report) with a baseline (a baseline directory, a run
 * directory, a report.json, or a Baseline): every metric against its tolerance. A tolerance for a path the
 * run's metrics cannot have is a usage error, so a misspelt one never silently compares nothing.
 */
export function compare(
  baseline: string | Baseline,
  current: string | Report,
  options: CompareOptions = {},
): Comparison {
  const base = typeof baseline === 'string' ? readBaseline(resolve(baseline)) : baseline;
  const report = typeof current === 'string' ? readReport(resolve(current)) : current;
  const extra = options.tolerance ?? {};
  const problems = Object.keys(extra).flatMap(
    (p) => metricPathProblem(p, metricNamesOf(report.scenario.plan), 'tolerance') ?? [],
  );
  if (problems.length) throw new UsageError(`--tolerance: ${problems.join('; ')}`);
  const rules = [...toleranceRules(extra), ...toleranceRules(report.scenario.plan.regressions)];
  const label = options.label ?? (typeof current === 'string' ? current : report.scenario.name);
  return compareReports(base, report, label, rules);
}
