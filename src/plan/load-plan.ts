// Scenario file -> validated, frozen Plan. Nothing is started here; every problem is reported at once.
import { DEFAULTS } from '../core/defaults.ts';
import { MissingToolsError, PlanValidationError } from '../core/errors.ts';
import { resolveFields, type Fields, type ValuesOf } from '../core/fields.ts';
import { isInheritedName } from '../core/own-keys.ts';
import { deepFreeze, type Plan } from '../core/plan.ts';
import type { ScenarioDefinition, ScenarioSpec } from '../core/scenario.ts';
import { installHint } from '../core/system-tools.ts';
import { parseDuration } from '../core/units.ts';
import { dirname, isAbsolute } from 'node:path';
import { resolveCapture, type CaptureRequest } from './capture-request.ts';
import { metricNamesOf } from './metric-names.ts';
import { PlanTools } from './plan-tools.ts';
import type { Profile } from './profiles.ts';
import { MAX_REPLICAS, MAX_REPLICAS_WITH_OWN_AGENTS, scaleSpec } from './replicas.ts';
import { linkActors, resolveActorOptions } from './resolve-actors.ts';
import { resolveHostSysctls } from './resolve-host-sysctls.ts';
import { resolveHosts } from './resolve-hosts.ts';
import { resolveRegressions, resolveThresholds } from './resolve-metric-checks.ts';
import { loadScenario } from './scenario-file.ts';
import { scenarioNameProblem } from './scenario-name.ts';
import { specShapeProblems } from './spec-shape.ts';
import { probeSysctls } from './sysctl-check.ts';
import { applySysctlFlags, splitSysctlFlags } from './sysctl-flags.ts';

/** Parses ["key=value", ...] as given to --set. */
export function parseOverrides(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const problems: string[] = [];
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = pair.slice(0, eq).trim();
    if (eq <= 0) problems.push(`--set ${pair}: expected key=value`);
    else if (isInheritedName(key)) problems.push(`--set ${key}: not a parameter name`);
    else out[key] = pair.slice(eq + 1);
  }
  if (problems.length) throw new PlanValidationError(problems);
  return out;
}

export interface PlanOptions {
  /** The lab driver's name (--driver); DEFAULTS.driver when absent. The CLI checks it against the lab registry. */
  driver?: string;
  /** --threshold expressions, added to the scenario's own. */
  thresholds?: readonly string[];
  /** --tolerance path pattern -> tolerance, over the scenario's `regressions`. */
  tolerances?: Readonly<Record<string, string>>;
  /** A sysctl profile (--profile) applied over the scenario's sysctls. */
  profile?: Profile;
  /** --sysctl host:name=value: over the scenario's own sysctls of that host, validated like them. */
  sysctls?: readonly string[];
  /** --scale host=N: replicas of a client host, over the scenario's own `replicas`. */
  scale?: Readonly<Record<string, number>>;
  /** --capture host[,host]: tcpdump in those hosts, with --capture-full and --capture-max. */
  capture?: CaptureRequest;
}

export async function loadPlan(
  nameOrPath: string,
  overrides: Record<string, string> = {},
  options: PlanOptions = {},
): Promise<Plan> {
  const { definition, file } = await loadScenario(nameOrPath);
  return resolvePlan(definition, file, overrides, options);
}

/**
 * A scenario resolved into its plan without asking the kernel anything: the plan as it would be, its problems
 * (listed in this order, the probe's after the sysctls' own), and the sysctl names the probe must look for.
 */
export interface PlanResolution {
  readonly scenario: { readonly name: string; readonly description: string };
  /** Not yet frozen: finishPlan freezes it once nothing is wrong. */
  readonly plan: Plan;
  readonly problems: {
    readonly layout: readonly string[];
    readonly sysctls: readonly string[];
    readonly checks: readonly string[];
  };
  readonly sysctlNames: readonly string[];
  readonly tools: PlanTools;
}

/** Resolves a scenario, probes its sysctls in a throwaway namespace, and returns the frozen plan or throws every problem. */
export function resolvePlan<P extends Fields>(
  definition: ScenarioDefinition<P>,
  file: string,
  overrides: Record<string, string>,
  options: PlanOptions = {},
): Plan {
  const resolution = resolveScenarioPlan(definition, file, overrides, options);
  const names = resolution.sysctlNames;
  return finishPlan(resolution, names.length ? probeSysctls(names).problems(names) : []);
}

/**
 * Everything of resolvePlan but the sysctl probe. Throws at once where nothing further can be resolved (a bad
 * name, unknown parameters, build() failing, a spec of the wrong shape); every later problem is collected.
 */
export function resolveScenarioPlan<P extends Fields>(
  definition: ScenarioDefinition<P>,
  file: string,
  overrides: Record<string, string>,
  options: PlanOptions = {},
): PlanResolution {
  // Called from code as well as by loadPlan: the name is checked here too, before it names anything.
  const nameProblem = scenarioNameProblem(definition.name);
  if (nameProblem) throw new PlanValidationError([nameProblem]);
  const params = resolveParams(definition, overrides);
  const built = builtSpec(definition, params);
  const sysctlFlags = splitSysctlFlags(built, options.sysctls ?? []);
  const flagged = applySysctlFlags(built, sysctlFlags.scenarioHosts);
  const scaleProblems: string[] = [];
  // An attached lab's hosts each have their own machine or pod (a cluster's, from `waitlab kube`): no agent of this
  // machine per replica, so the replicas are capped only by MAX_REPLICAS.
  const scaled = scaleSpec(
    flagged.spec,
    options.scale ?? {},
    scaleProblems,
    options.driver === 'attached' ? MAX_REPLICAS : MAX_REPLICAS_WITH_OWN_AGENTS,
  );
  const replicaFlagged = applySysctlFlags(scaled.spec, sysctlFlags.others);
  const spec = replicaFlagged.spec;
  // Replicas are named by waitlab (client_2, flood_2), outside the names a scenario may choose.
  const replicaNames = new Set(
    Object.values(scaled.groups).flatMap((g) => [...g.hosts, ...Object.values(g.actors).flat()]),
  );
  const resolvedHosts = resolveHosts(spec, replicaNames);
  const actorOptions = resolveActorOptions(spec, resolvedHosts.hosts, replicaNames);

  const tools = new PlanTools();
  for (const [name, host] of Object.entries(resolvedHosts.hosts)) {
    if (host.gateway?.masquerade) tools.need('nft', `hosts.${name}.gateway (masquerade)`);
    if (host.limits?.nofile !== undefined) tools.need('prlimit', `hosts.${name}.limits.nofile`);
  }
  const captureProblems: string[] = [];
  const capture = options.capture
    ? resolveCapture(options.capture, resolvedHosts.hosts, tools, captureProblems)
    : undefined;
  // A scenario given as code (tests, resolvePlan from a program) has no file: its paths start where the program runs.
  const scenarioDir = isAbsolute(file) ? dirname(file) : process.cwd();
  const linked = linkActors(actorOptions, resolvedHosts.hosts, scenarioDir, tools, resolvedHosts.family);
  const hostSysctls = resolveHostSysctls(
    resolvedHosts.hosts,
    linked.actors,
    options.profile,
    resolvedHosts.sysctlNames,
  );
  const { hosts, profile } = hostSysctls;
  const { actors } = linked;

  const metricNames = metricNamesOf({ hosts, actors });
  const { thresholds, problems: thresholdProblems } = resolveThresholds(spec, options.thresholds ?? [], metricNames);
  const { regressions, problems: regressionProblems } = resolveRegressions(spec, options.tolerances, metricNames);
  const sampling = resolveSampling(spec);

  const plan: Plan = {
    schemaVersion: 1,
    scenario: { name: definition.name, description: definition.description, file },
    params: params as Record<string, unknown>,
    overrides: { ...overrides },
    ...(options.sysctls?.length ? { sysctlFlags: [...options.sysctls] } : {}),
    driver: options.driver ?? DEFAULTS.driver,
    sampler: { intervalMs: sampling.intervalMs },
    tailMs: sampling.tailMs,
    hosts,
    ...(resolvedHosts.family !== 'ipv4' ? { family: resolvedHosts.family } : {}),
    ...(resolvedHosts.topology ? { networks: resolvedHosts.topology.networks } : {}),
    actors,
    thresholds,
    regressions,
    ...(profile ? { profile } : {}),
    ...(Object.keys(scaled.groups).length ? { replicas: scaled.groups } : {}),
    maxLoadMs: linked.maxLoadMs,
    tools: tools.names(),
    ...(capture ? { capture } : {}),
  };
  return {
    scenario: { name: definition.name, description: definition.description },
    plan,
    problems: {
      layout: [
        ...flagged.problems,
        ...scaleProblems,
        ...replicaFlagged.problems,
        ...resolvedHosts.problems,
        ...actorOptions.problems,
        ...captureProblems,
        ...linked.problems,
      ],
      sysctls: hostSysctls.problems,
      checks: [...thresholdProblems, ...regressionProblems, ...sampling.problems],
    },
    sysctlNames: [...hostSysctls.sysctlNames],
    tools,
  };
}

/**
 * The frozen plan, or every problem at once: the resolution's with `sysctlProblems` (the probe's answer) after
 * the sysctls' own. Tools are looked for last: a plan with other problems lists its missing tools among them
 * (exit 2), a plan whose only lack is a tool is a lab that cannot be built here (exit 3).
 */
export function finishPlan(resolution: PlanResolution, sysctlProblems: readonly string[]): Plan {
  const { layout, sysctls, checks } = resolution.problems;
  const problems = [...layout, ...sysctls, ...sysctlProblems, ...checks];
  const { name, description } = resolution.scenario;
  const missing = resolution.tools.missing();
  if (problems.length) {
    const hint = missing.length ? ` (${installHint(missing.map((m) => m.tool))})` : '';
    throw new PlanValidationError(
      [...problems, ...missing.map((m) => `${m.neededBy.join(', ')}: needs ${m.tool}, which is not installed${hint}`)],
      name,
    );
  }
  if (missing.length)
    throw new MissingToolsError(
      missing,
      name,
      installHint(missing.map((m) => m.tool)),
      resolution.tools.names(),
      description,
    );
  return deepFreeze<Plan>(resolution.plan);
}

/** The scenario's parameters with the --set overrides; an unknown or bad one ends resolution here. */
function resolveParams<P extends Fields>(
  definition: ScenarioDefinition<P>,
  overrides: Record<string, string>,
): ValuesOf<P> {
  const problems: string[] = [];
  const params = resolveFields(definition.params, overrides, 'param', problems);
  if (problems.length)
    throw new PlanValidationError(
      problems.map((p) => p.replace(/^param: unknown key/, '--set: unknown parameter')),
      definition.name,
    );
  return params;
}

/** The scenario's build() with its parameters, checked for shape; a throw or a bad shape ends resolution here. */
function builtSpec<P extends Fields>(definition: ScenarioDefinition<P>, params: ValuesOf<P>): ScenarioSpec {
  let spec: ScenarioSpec;
  try {
    spec = definition.build(params);
  } catch (err) {
    throw new PlanValidationError([`build() threw: ${(err as Error)?.message ?? String(err)}`], definition.name);
  }
  const shape = specShapeProblems(spec);
  if (shape.length) throw new PlanValidationError(shape, definition.name);
  return spec;
}

/** The sampler's interval and the tail after the load. */
function resolveSampling(spec: ScenarioSpec): { intervalMs: number; tailMs: number; problems: string[] } {
  const problems: string[] = [];
  const intervalMs = optionalDuration(spec.sampleInterval, DEFAULTS.sampleIntervalMs, 'sampleInterval', problems);
  if (intervalMs < 10) problems.push(`sampleInterval: ${intervalMs} ms is below the 10 ms the sampler supports`);
  const tailMs = optionalDuration(spec.tail, DEFAULTS.tailMs, 'tail', problems);
  return { intervalMs, tailMs, problems };
}

function optionalDuration(raw: unknown, fallback: number, where: string, problems: string[]): number {
  if (raw === undefined) return fallback;
  try {
    return parseDuration(raw);
  } catch (err) {
    problems.push(`${where}: ${(err as Error).message}`);
    return fallback;
  }
}
