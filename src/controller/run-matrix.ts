// Several runs of one scenario, each in a fresh lab: one per profile, per swept value, or per pair of both.
// Every plan is loaded and validated before the first lab exists; runs go one after another (two labs at once
// would skew each other's rates); the comparison's directory holds each run's own directory.
import { join } from 'node:path';
import { PlanValidationError, isWaitlabError } from '../core/errors.ts';
import type { Plan } from '../core/plan.ts';
import { writeWhole } from '../outputs/registry.ts';
import { matrixMarkdown } from '../outputs/matrix-summary.ts';
import { renderComparisonHtml } from '../outputs/comparison-html.ts';
import { compareRuns, matrixRun, type MatrixComparison } from '../report/matrix.ts';
import type { Report } from '../report/report.ts';
import { prepareDefaultRunDir, prepareOutDir } from './run-dir.ts';
import { defaultRunDir, runScenario, type RunOptions } from './run-scenario.ts';

export interface MatrixEntry {
  readonly label: string;
  readonly profile?: string;
  /** --set values of this run. */
  readonly overrides: Readonly<Record<string, string>>;
}

/** Profiles x swept values, in order; a label per run. */
export function expandMatrix(
  profiles: readonly string[],
  sweep: { param: string; values: readonly string[] } | undefined,
  base: Readonly<Record<string, string>>,
): MatrixEntry[] {
  const ps = profiles.length ? profiles : [undefined];
  const vs = sweep ? sweep.values : [undefined];
  return ps.flatMap((profile) =>
    vs.map((value) => ({
      label: [profile, value === undefined ? undefined : `${sweep!.param}=${value}`].filter(Boolean).join(' ') || 'run',
      ...(profile ? { profile } : {}),
      overrides: { ...base, ...(value === undefined ? {} : { [sweep!.param]: value }) },
    })),
  );
}

/** Loads every entry's plan; all problems of all entries at once. */
export async function loadMatrixPlans(
  entries: readonly MatrixEntry[],
  load: (e: MatrixEntry) => Promise<Plan>,
): Promise<Plan[]> {
  const plans: Plan[] = [];
  const problems: string[] = [];
  for (const e of entries) {
    try {
      plans.push(await load(e));
    } catch (err) {
      if (!isWaitlabError(err)) throw err;
      const listed = err instanceof PlanValidationError ? err.problems : [err.message];
      problems.push(...listed.map((p) => `${e.label}: ${p}`));
    }
  }
  if (problems.length) throw new PlanValidationError([...new Set(problems)]);
  return plans;
}

/** Roughly how long the runs take: each run's load, its tail and a few seconds to build and tear down its lab. */
export function estimateMs(plans: readonly Plan[]): number {
  return plans.reduce((t, p) => t + p.maxLoadMs + p.tailMs + 3_000, 0);
}

export async function runMatrix(
  entries: readonly MatrixEntry[],
  plans: readonly Plan[],
  options: Omit<RunOptions, 'outDir' | 'baseline'> & {
    outDir?: string;
    sweep?: string;
    costs: Readonly<Record<string, string>>;
    onRun?: (i: number, entry: MatrixEntry, report: Report) => void;
  },
): Promise<{ comparison: MatrixComparison; dir: string }> {
  const first = plans[0]!;
  const dir =
    options.outDir !== undefined
      ? prepareOutDir(options.outDir)
      : prepareDefaultRunDir(`${defaultRunDir(first)}-comparison`);
  const runs = [];
  const reports: Report[] = [];
  for (let i = 0; i < plans.length; i++) {
    const entry = entries[i]!;
    const name = `${String(i + 1).padStart(2, '0')}-${entry.label.replace(/[^\w.=-]+/g, '_')}`;
    const { report } = await runScenario(plans[i]!, { ...options, outDir: join(dir, name) });
    runs.push(matrixRun(report, entry.label, name, { ...entry.overrides }));
    reports.push(report);
    options.onRun?.(i + 1, entry, report);
  }
  const comparison = compareRuns(first.scenario.name, runs, options.sweep ?? null, options.costs);
  writeWhole(join(dir, 'comparison.json'), `${JSON.stringify(comparison, null, 2)}\n`);
  writeWhole(join(dir, 'comparison.md'), matrixMarkdown(comparison));
  writeWhole(join(dir, 'comparison.html'), await renderComparisonHtml(comparison, dir, reports));
  return { comparison, dir };
}
