// What a run asks for, turned into plans before any lab exists: one run, or runs side by side (several
// profiles, a sweep); the baseline read and matched to its scenario. The CLI's `waitlab scenario` and the
// library's run() both come through here, so a program gets the same checks and the same errors.
import { resolve } from 'node:path';
import { DEFAULTS } from '../core/defaults.ts';
import { PlanValidationError, UsageError } from '../core/errors.ts';
import type { Fields } from '../core/fields.ts';
import { isInheritedName } from '../core/own-keys.ts';
import type { Plan } from '../core/plan.ts';
import type { ScenarioDefinition } from '../core/scenario.ts';
import { labDriver } from '../lab/registry.ts';
import { loadPlan, resolvePlan, type PlanOptions } from '../plan/load-plan.ts';
import type { CaptureRequest } from '../plan/capture-request.ts';
import { loadProfile, type Profile } from '../plan/profiles.ts';
import { parseSweep } from '../plan/sweep.ts';
import { paramChanges } from '../report/compare.ts';
import type { Baseline } from '../report/comparison.ts';
import { readBaseline } from '../report/report-file.ts';
import { expandMatrix, loadMatrixPlans, type MatrixEntry } from './run-matrix.ts';

/** A catalogue name, a path to a scenario file, or a scenario defined in code (defineScenario). */
export type ScenarioInput<P extends Fields = Fields> = string | ScenarioDefinition<P>;

/** The flags of `waitlab scenario` as data: `{ set: { duration: '2s' }, profile: ['tw-reuse'] }`. */
export interface RunRequest {
  /** --set: parameters over the scenario's defaults, each parsed by the parameter's own field. */
  readonly set?: Readonly<Record<string, string | number | boolean>>;
  /** --profile: a sysctl profile (a built-in name or a .json file) for one run; a list of several makes a comparison, one run each. */
  readonly profile?: string | readonly string[];
  /** --sweep: one run per value of a parameter, 'rate=100/s,300/s' or 'rate=100..800x2' (a comparison). */
  readonly sweep?: string;
  /** --sysctl: 'client:net.ipv4.tcp_tw_reuse=1', over the scenario's own. */
  readonly sysctl?: readonly string[];
  /** --scale: replicas of a client host, { client: 3 }. */
  readonly scale?: Readonly<Record<string, number>>;
  /** --threshold: '<report path> <op> <number>', added to the scenario's. */
  readonly threshold?: readonly string[];
  /** --tolerance: report path pattern -> '+20%', '-10%', '±5%', over the scenario's `regressions`. */
  readonly tolerance?: Readonly<Record<string, string>>;
  /** --baseline: a baseline directory, a run directory or a report.json, or a baseline read already (readBaseline). */
  readonly baseline?: string | Baseline;
  /** --driver: 'netns' (default), 'compose', ... */
  readonly driver?: string;
  /** --max-runs: the most runs a comparison may make. */
  readonly maxRuns?: number;
  /** --capture host[,host] (with --capture-full, --capture-max): tcpdump in those hosts, each run of a comparison too. */
  readonly capture?: CaptureRequest;
}

/** Above this many runs a comparison needs maxRuns (--max-runs): each is a whole lab run. */
export const DEFAULT_MAX_RUNS = 12;
/** The most maxRuns may allow: a sweep's 100 values for each of ten profiles. */
export const MOST_MAX_RUNS = 1000;

export interface PreparedSingleRun {
  readonly kind: 'run';
  readonly plan: Plan;
  readonly baseline?: Baseline;
  /** Said before the run, not refused: e.g. a baseline recorded with other parameters. */
  readonly warnings: readonly string[];
}

export interface PreparedComparison {
  readonly kind: 'comparison';
  readonly entries: readonly MatrixEntry[];
  readonly plans: readonly Plan[];
  /** Profiles' stated costs, by profile name. */
  readonly costs: Readonly<Record<string, string>>;
  readonly sweep?: string;
}

export type PreparedRun = PreparedSingleRun | PreparedComparison;

/** --set values as the plan takes them (text, parsed by each parameter's field). */
export function overridesOf(set: Readonly<Record<string, string | number | boolean>>): Record<string, string> {
  const out: Record<string, string> = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(set)) {
    if (key === '' || key.includes('=') || isInheritedName(key))
      problems.push(`set: ${JSON.stringify(key)} is not a parameter name`);
    else if (!['string', 'number', 'boolean'].includes(typeof value))
      problems.push(
        `set.${key}: expected a string, a number or a boolean, got ${value === null ? 'null' : typeof value}`,
      );
    else out[key] = String(value);
  }
  if (problems.length) throw new PlanValidationError(problems);
  return out;
}

function profileNames(profile: RunRequest['profile']): string[] {
  return (typeof profile === 'string' ? [profile] : [...(profile ?? [])]).map((p) => p.trim()).filter(Boolean);
}

function maxRunsOf(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_RUNS;
  if (!Number.isInteger(value) || value < 1 || value > MOST_MAX_RUNS)
    throw new UsageError(`--max-runs ${value}: expected a whole number from 1 to ${MOST_MAX_RUNS}`);
  return value;
}

function loadAnyPlan<P extends Fields>(
  scenario: ScenarioInput<P>,
  overrides: Record<string, string>,
  options: PlanOptions,
): Promise<Plan> {
  if (typeof scenario === 'string') return loadPlan(scenario, overrides, options);
  // A scenario given as code has no file: its relative paths start in the working directory (resolvePlan).
  return Promise.resolve(resolvePlan(scenario, '(given in code)', overrides, options));
}

/**
 * The baseline, read and matched to the plan's scenario before any lab exists: a baseline of another scenario
 * is a usage error, not a wasted run. One recorded with other parameters can be meant (a changed configuration
 * against the old one's baseline) but its counts will differ: a warning, not a refusal.
 */
export function matchBaseline(given: string | Baseline, plan: Plan): { baseline: Baseline; warnings: string[] } {
  const baseline = typeof given === 'string' ? readBaseline(resolve(given)) : given;
  const label = typeof given === 'string' ? given : baseline.identity.label;
  if (baseline.identity.scenario !== plan.scenario.name) {
    throw new UsageError(
      `--baseline ${label} is a baseline of ${baseline.identity.scenario}, not of ${plan.scenario.name}`,
    );
  }
  const changed = paramChanges(baseline.identity.params, plan.params, new Set(Object.keys(plan.overrides)));
  const warnings = changed.length
    ? [
        `--baseline ${label} was recorded with other parameters (baseline -> this run: ${changed.join(', ')}); counts that follow them will differ: give the run the baseline's --set values to compare like with like`,
      ]
    : [];
  return { baseline, warnings };
}

/** Every plan of what is asked, validated; one run, or a comparison where several profiles or a sweep are given. */
export async function prepareRun<P extends Fields>(
  scenario: ScenarioInput<P>,
  request: RunRequest = {},
): Promise<PreparedRun> {
  const driver = labDriver(request.driver ?? DEFAULTS.driver);
  const profiles = profileNames(request.profile);
  const base: PlanOptions = {
    driver: driver.name,
    sysctls: request.sysctl ?? [],
    scale: request.scale ?? {},
    thresholds: request.threshold ?? [],
    tolerances: request.tolerance ?? {},
    ...(request.capture ? { capture: request.capture } : {}),
  };
  const overrides = overridesOf(request.set ?? {});
  if (profiles.length > 1 || request.sweep !== undefined) {
    if (request.baseline !== undefined)
      throw new UsageError(
        '--baseline compares one run; with --profile a,b or --sweep, compare the runs of the comparison with each other',
      );
    const sweep = request.sweep === undefined ? undefined : parseSweep(request.sweep);
    const loaded = new Map<string, Profile>(profiles.map((name) => [name, loadProfile(name)]));
    const maxRuns = maxRunsOf(request.maxRuns);
    const entries = expandMatrix(profiles, sweep, overrides);
    if (entries.length > maxRuns)
      throw new UsageError(
        `${entries.length} runs (${profiles.length || 1} profiles x ${sweep?.values.length ?? 1} values) is more than --max-runs ${maxRuns}`,
      );
    const plans = await loadMatrixPlans(entries, (e) =>
      loadAnyPlan(scenario, { ...e.overrides }, { ...base, ...(e.profile ? { profile: loaded.get(e.profile)! } : {}) }),
    );
    const costs = Object.fromEntries([...loaded.values()].flatMap((p) => (p.cost ? [[p.name, p.cost]] : [])));
    return { kind: 'comparison', entries, plans, costs, ...(sweep ? { sweep: sweep.param } : {}) };
  }
  const profile = profiles[0] === undefined ? undefined : loadProfile(profiles[0]);
  const plan = await loadAnyPlan(scenario, overrides, { ...base, ...(profile ? { profile } : {}) });
  if (request.baseline === undefined) return { kind: 'run', plan, warnings: [] };
  const { baseline, warnings } = matchBaseline(request.baseline, plan);
  return { kind: 'run', plan, baseline, warnings };
}
