// The library's entry point for a program: run(scenario, options) is `waitlab scenario` without the terminal.
// It resolves to the report (or, for several profiles or a sweep, the comparison of the runs) with the exit
// code the CLI would give; progress comes as calls to onProgress, as autocannon reports its ticks.
import { resolve } from 'node:path';
import type { Fields } from '../core/fields.ts';
import type { MatrixComparison } from '../report/matrix.ts';
import type { Report } from '../report/report.ts';
import { matrixExitCode, reportExitCode } from './exit-codes.ts';
import { prepareRun, type PreparedRun, type RunRequest, type ScenarioInput } from './prepare-run.ts';
import { runMatrix, type MatrixEntry } from './run-matrix.ts';
import { runScenario, type Progress, type RunOptions } from './run-scenario.ts';

/** How a run goes on: where it writes, how it is stopped, what it tells while it runs. */
export interface RunControls {
  /** The run's directory (a comparison's: one directory per run inside it); default reports/<scenario>/<timestamp>. */
  readonly out?: string;
  /** Aborting it stops the load and tears the lab down; the run then rejects with an InterruptedError (its report written). */
  readonly signal?: AbortSignal;
  /** Also print the run's log on stderr. */
  readonly verbose?: boolean;
  /** Every host's latest sample and actor's stats as they arrive, at most every 100 ms and once more when the agents stop (one run; each run of a comparison). */
  readonly onProgress?: (progress: Progress) => void;
  /** A comparison's run has finished: its place (from 1), its label and its report. */
  readonly onRun?: (index: number, label: string, report: Report) => void;
  /** Something said before the run, not refused (a baseline recorded with other parameters). */
  readonly onWarning?: (message: string) => void;
  /** Default: every registered output (report.json, summary.md, report.html, junit.xml). */
  readonly outputs?: RunOptions['outputs'];
}

export type ScenarioRunOptions = RunRequest & RunControls;

export interface SingleRunOutcome {
  readonly kind: 'run';
  /** report.json; `comparison` holds the baseline's verdict when a baseline was given. */
  readonly report: Report;
  readonly dir: string;
  /** What `waitlab scenario` exits with: 0, 1 thresholds failed, 5 regression against the baseline. */
  readonly exitCode: number;
}

export interface ComparisonOutcome {
  readonly kind: 'comparison';
  readonly comparison: MatrixComparison;
  readonly dir: string;
  /** 0 when every run went as predicted, else 1. */
  readonly exitCode: number;
}

export type RunOutcome = SingleRunOutcome | ComparisonOutcome;

/** Runs what prepareRun() planned: a lab per run, torn down whatever happens. */
export async function executeRun(prepared: PreparedRun, controls: RunControls = {}): Promise<RunOutcome> {
  const outDir = controls.out === undefined ? undefined : resolve(controls.out);
  const common = {
    signal: controls.signal,
    verbose: controls.verbose,
    onProgress: controls.onProgress,
    ...(controls.outputs ? { outputs: controls.outputs } : {}),
  };
  if (prepared.kind === 'comparison') {
    const { comparison, dir } = await runMatrix(prepared.entries, prepared.plans, {
      ...common,
      outDir,
      costs: prepared.costs,
      ...(prepared.sweep ? { sweep: prepared.sweep } : {}),
      onRun: (i: number, entry: MatrixEntry, report: Report) => controls.onRun?.(i, entry.label, report),
    });
    return { kind: 'comparison', comparison, dir, exitCode: matrixExitCode(comparison) };
  }
  const { report, dir } = await runScenario(prepared.plan, {
    ...common,
    outDir,
    ...(prepared.baseline ? { baseline: prepared.baseline } : {}),
  });
  return { kind: 'run', report, dir, exitCode: reportExitCode(report) };
}

/**
 * Runs a scenario (a catalogue name, a path, or a defineScenario() object) as `waitlab scenario` does, with the
 * lab's privileges this process must already have (root, or `waitlab privileged -- node program.js`).
 * Everything is validated before a lab exists: an invalid scenario rejects with a PlanValidationError (code
 * WAITLAB_INVALID_PLAN) naming every problem. One profile: the report; several, or a sweep: their comparison.
 */
export function run<P extends Fields>(
  scenario: ScenarioInput<P>,
  options?: ScenarioRunOptions & { readonly sweep?: undefined; readonly profile?: string | readonly [string] },
): Promise<SingleRunOutcome>;
export function run<P extends Fields>(scenario: ScenarioInput<P>, options?: ScenarioRunOptions): Promise<RunOutcome>;
export async function run<P extends Fields>(
  scenario: ScenarioInput<P>,
  options: ScenarioRunOptions = {},
): Promise<RunOutcome> {
  const prepared = await prepareRun(scenario, options);
  if (prepared.kind === 'run') for (const warning of prepared.warnings) options.onWarning?.(warning);
  return executeRun(prepared, options);
}
