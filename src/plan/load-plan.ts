// Scenario file -> validated, frozen Plan. Nothing is started here; every problem is reported at once.
import { actorKind } from '../actors/registry.ts';
import { parseThreshold } from '../core/thresholds.ts';
import { parseTolerance, pathPattern } from '../core/tolerance.ts';
import { metricPathProblem } from '../core/metric-paths.ts';
import { metricNamesOf } from './metric-names.ts';
import { DEFAULTS } from '../core/defaults.ts';
import { MissingToolsError, PlanValidationError } from '../core/errors.ts';
import { installHint } from '../core/system-tools.ts';
import { PlanTools } from './plan-tools.ts';
import { lacksRequired, resolveFields, type Fields } from '../core/fields.ts';
import { isInheritedName } from '../core/own-keys.ts';
import { resolveHostLimits } from './host-limits.ts';
import { addressInLabNetwork, addressInSubnet, nthLabAddress } from './lab-addresses.ts';
import { resolveTopology, usesNetworks } from './lab-topology.ts';
import { hostInFamily, IPV6_FORWARDING, networkInFamily, resolveFamily } from './lab-family.ts';
import { deepFreeze, type ActorPlan, type HostPlan, type Plan, type PlanProfile } from '../core/plan.ts';
import type { ScenarioDefinition, ScenarioSpec } from '../core/scenario.ts';
import { applyProfile, type Profile } from './profiles.ts';
import { resolveCapture, type CaptureRequest } from './capture-request.ts';
import { scaleSpec } from './replicas.ts';
import { loadScenario } from './scenario-file.ts';
import { scenarioNameProblem } from './scenario-name.ts';
import { sysctlValueProblem } from './sysctl-values.ts';
import { specShapeProblems } from './spec-shape.ts';
import { normaliseSysctlValue, probeSysctls } from './sysctl-check.ts';
import { parseSysctlFlags } from './sysctl-flags.ts';
import { parseDuration } from '../core/units.ts';
import { HOST_NAME } from '../core/host-names.ts';
import { dirname, isAbsolute } from 'node:path';


/** The one network of a lab that declares none. */
const DEFAULT_SUBNET = '198.18.0.0/24';
const ACTOR_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const HOST_KEYS: readonly string[] = ['address', 'sysctls', 'limits', 'networks', 'via', 'gateway', 'replicas'];
const SYSCTL_NAME = /^net\.[a-z0-9_]+(\.[a-z0-9_-]+)+$/;

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

export async function loadPlan(nameOrPath: string, overrides: Record<string, string> = {}, options: PlanOptions = {}): Promise<Plan> {
  const { definition, file } = await loadScenario(nameOrPath);
  return resolvePlan(definition, file, overrides, options);
}

export function resolvePlan<P extends Fields>(definition: ScenarioDefinition<P>, file: string, overrides: Record<string, string>, options: PlanOptions = {}): Plan {
  // Called from code as well as by loadPlan: the name is checked here too, before it names anything.
  const nameProblem = scenarioNameProblem(definition.name);
  if (nameProblem) throw new PlanValidationError([nameProblem]);
  const problems: string[] = [];
  const params = resolveFields(definition.params, overrides, 'param', problems);
  if (problems.length) throw new PlanValidationError(problems.map((p) => p.replace(/^param: unknown key/, '--set: unknown parameter')), definition.name);

  let spec: ScenarioSpec;
  try {
    spec = definition.build(params);
  } catch (err) {
    throw new PlanValidationError([`build() threw: ${(err as Error)?.message ?? String(err)}`], definition.name);
  }
  const shape = specShapeProblems(spec);
  if (shape.length) throw new PlanValidationError(shape, definition.name);

  for (const { host, name, value } of parseSysctlFlags(options.sysctls ?? [], problems)) {
    const target = spec.hosts && Object.hasOwn(spec.hosts, host) ? spec.hosts[host] : undefined;
    if (!target) problems.push(`--sysctl ${host}:${name}=${value}: no host "${host}" (hosts: ${Object.keys(spec.hosts ?? {}).join(', ')})`);
    else spec = { ...spec, hosts: { ...spec.hosts, [host]: { ...target, sysctls: { ...target.sysctls, [name]: value } } } };
  }

  const scaled = scaleSpec(spec, options.scale ?? {}, problems);
  spec = scaled.spec;
  // Replicas are named by waitlab (client_2, flood_2), outside the names a scenario may choose.
  const replicaNames = new Set(Object.values(scaled.groups).flatMap((g) => [...g.hosts, ...Object.values(g.actors).flat()]));

  const hosts: Record<string, HostPlan> = {};
  const sysctlNames = new Set<string>();
  let nextAddress = 0;
  const topology = usesNetworks(spec) ? resolveTopology(spec, problems) : undefined;
  for (const [name, host] of Object.entries(spec.hosts ?? {})) {
    const where = `hosts.${name}`;
    for (const key of Object.keys(host)) {
      if (!HOST_KEYS.includes(key)) problems.push(`${where}: unknown key "${key}" (known: ${HOST_KEYS.join(', ')})`);
    }
    if ((!HOST_NAME.test(name) && !replicaNames.has(name)) || isInheritedName(name)) problems.push(`${where}: a host name is 1-12 lower-case letters or digits, starting with a letter`);
    const sysctls: Record<string, string> = {};
    for (const [key, value] of Object.entries(host.sysctls ?? {})) {
      if (!SYSCTL_NAME.test(key)) {
        problems.push(`${where}.sysctls: "${key}" is not a full net.* sysctl name (e.g. net.ipv4.tcp_tw_reuse)`);
        continue;
      }
      if (typeof value !== 'string' && typeof value !== 'number') {
        problems.push(`${where}.sysctls.${key}: expected a string or number`);
        continue;
      }
      sysctls[key] = normaliseSysctlValue(value);
      sysctlNames.add(key);
    }
    const limits = resolveHostLimits(host.limits, `${where}.limits`, problems);
    if (topology) {
      for (const [key, value] of Object.entries(topology.sysctls[name] ?? {})) {
        sysctls[key] = value;
        sysctlNames.add(key);
      }
      const networking = topology.hosts[name] ?? { address: '', prefixLength: DEFAULTS.labSubnetPrefix };
      hosts[name] = { name, ...networking, sysctls, ...(limits ? { limits } : {}) };
      continue;
    }
    let address = host.address;
    if (address === undefined) address = nthLabAddress(nextAddress++);
    else if (!addressInLabNetwork(address)) problems.push(`${where}.address: ${address} is outside ${DEFAULTS.labNetwork}, the only range the lab uses`);
    // Without declared networks every host is on one bridge, 198.18.0.0/24: an address elsewhere in the /15 would
    // be unreachable (ENETUNREACH from every connect) rather than wrong.
    else if (!addressInSubnet(address, DEFAULT_SUBNET) || address.endsWith('.0') || address.endsWith('.255')) {
      problems.push(`${where}.address: ${address} is not a host address of the lab's network ${DEFAULT_SUBNET} (declare networks to use other parts of ${DEFAULTS.labNetwork})`);
    }
    hosts[name] = { name, address, prefixLength: DEFAULTS.labSubnetPrefix, sysctls, ...(limits ? { limits } : {}) };
  }
  if (Object.keys(hosts).length === 0) problems.push('hosts: at least one host is needed');
  const addresses = Object.values(hosts).map((h) => h.address);
  if (!topology && new Set(addresses).size !== addresses.length) problems.push('hosts: two hosts have the same address');
  const family = resolveFamily(spec.family, problems);
  // Addresses are assigned and checked in IPv4 terms, then mapped: an address that failed is left for its problem.
  if (problems.length === 0) for (const [name, host] of Object.entries(hosts)) hosts[name] = hostInFamily(host, family);
  if (family !== 'ipv4' && Object.values(hosts).some((h) => h.gateway)) sysctlNames.add(IPV6_FORWARDING);
  const networks = topology && Object.fromEntries(Object.entries(topology.networks).map(([k, n]) => [k, networkInFamily(n, family)]));

  const rawActors = Object.entries(spec.actors ?? {});
  const resolvedOptions: Record<string, { kind: string; host: string; options: Record<string, unknown> }> = {};
  const unlinkable = new Set<string>();
  for (const [name, actor] of rawActors) {
    const where = `actors.${name}`;
    if ((!ACTOR_NAME.test(name) && !replicaNames.has(name)) || isInheritedName(name)) problems.push(`${where}: an actor name is lower-case letters, digits and dashes, starting with a letter`);
    const { kind, host, ...options } = actor;
    const def = actorKind(kind);
    if (!def) {
      problems.push(`${where}.kind: unknown actor kind "${kind}"`);
      continue;
    }
    if (!Object.hasOwn(hosts, host)) problems.push(`${where}.host: no host "${host}" (hosts: ${Object.keys(hosts).join(', ')})`);
    resolvedOptions[name] = { kind, host, options: resolveFields(def.options, options, where, problems) as Record<string, unknown> };
    // An actor missing a required option is not linked (its problem is listed): link() may rely on every required option.
    if (lacksRequired(def.options, options)) unlinkable.add(name);
  }

  // A scenario given as code (tests, resolvePlan from a program) has no file: its paths start where the program runs.
  const scenarioDir = isAbsolute(file) ? dirname(file) : process.cwd();
  const tools = new PlanTools();
  for (const [name, host] of Object.entries(hosts)) {
    if (host.gateway?.masquerade) tools.need('nft', `hosts.${name}.gateway (masquerade)`);
    if (host.limits?.nofile !== undefined) tools.need('prlimit', `hosts.${name}.limits.nofile`);
  }
  const capture = options.capture ? resolveCapture(options.capture, hosts, tools, problems) : undefined;
  const actors: Record<string, ActorPlan> = {};
  let maxLoadMs = 0;
  for (const [name, { kind, host, options }] of Object.entries(resolvedOptions)) {
    const def = actorKind(kind)!;
    const before = problems.length;
    const linked = unlinkable.has(name) ? undefined : def.link?.(options as never, { self: { name, host }, hosts, scenarioDir, actors: resolvedOptions, needTool: (tool) => tools.need(tool, `actors.${name}`) }, `actors.${name}`, problems);
    // '::' takes IPv4 as well (IPV6_V6ONLY is off by default): one listener serves a dual-stack host's two addresses.
    const listen = def.role === 'server' && family !== 'ipv4' ? { listenAddress: '::' as const } : {};
    const actor: ActorPlan = { name, kind, role: def.role, host, options, ...listen, ...linked };
    // An actor whose link() pushed a problem is refused with the plan, and its model would rest on nothing.
    actors[name] = !unlinkable.has(name) && problems.length === before ? { ...actor, connections: def.connections(actor as never) } : actor;
    if (def.maxDurationMs) maxLoadMs = Math.max(maxLoadMs, def.maxDurationMs(options as never));
  }

  let profile: PlanProfile | undefined;
  if (options.profile) {
    const applied = applyProfile(options.profile, hosts, actors, problems);
    Object.assign(hosts, applied.hosts);
    profile = applied.record;
    for (const set of Object.values(profile.changes)) for (const name of Object.keys(set)) sysctlNames.add(name);
  }
  for (const [name, host] of Object.entries(hosts)) {
    for (const [key, value] of Object.entries(host.sysctls)) {
      const problem = sysctlValueProblem(key, value);
      if (problem) problems.push(`hosts.${name}.sysctls: ${problem}${profile?.changes[name]?.[key] ? ` (from profile ${profile.name})` : ''}`);
    }
  }
  if (sysctlNames.size) problems.push(...probeSysctls([...sysctlNames]).problems([...sysctlNames]));

  const thresholds = [...(spec.thresholds ?? []), ...(options.thresholds ?? [])];
  const fromCli = new Set(options.thresholds ?? []);
  for (const expr of thresholds) {
    const where = fromCli.has(expr) ? '--threshold' : 'thresholds';
    try {
      const problem = metricPathProblem(parseThreshold(expr).path, metricNamesOf({ hosts, actors }), 'threshold');
      if (problem) problems.push(`${where}: ${problem}`);
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message}`);
    }
  }
  const regressions: Record<string, string> = { ...(spec.regressions ?? {}), ...(options.tolerances ?? {}) };
  for (const [pattern, tolerance] of Object.entries(regressions)) {
    const where = options.tolerances && Object.hasOwn(options.tolerances, pattern) ? '--tolerance' : 'regressions';
    try {
      parseTolerance(tolerance);
      pathPattern(pattern);
      const problem = metricPathProblem(pattern, metricNamesOf({ hosts, actors }), 'tolerance');
      if (problem) problems.push(`${where}: ${problem}`);
    } catch (err) {
      problems.push(`${where}: ${pattern}: ${(err as Error).message}`);
    }
  }

  const intervalMs = optionalDuration(spec.sampleInterval, DEFAULTS.sampleIntervalMs, 'sampleInterval', problems);
  if (intervalMs < 10) problems.push(`sampleInterval: ${intervalMs} ms is below the 10 ms the sampler supports`);
  const tailMs = optionalDuration(spec.tail, DEFAULTS.tailMs, 'tail', problems);

  // Tools are looked for last: a plan with other problems lists its missing tools among them (exit 2), a plan whose
  // only lack is a tool is a lab that cannot be built here (exit 3).
  const missing = tools.missing();
  if (problems.length) {
    const hint = missing.length ? ` (${installHint(missing.map((m) => m.tool))})` : '';
    throw new PlanValidationError([...problems, ...missing.map((m) => `${m.neededBy.join(', ')}: needs ${m.tool}, which is not installed${hint}`)], definition.name);
  }
  if (missing.length) throw new MissingToolsError(missing, definition.name, installHint(missing.map((m) => m.tool)), tools.names(), definition.description);

  return deepFreeze<Plan>({
    schemaVersion: 1,
    scenario: { name: definition.name, description: definition.description, file },
    params: params as Record<string, unknown>,
    overrides: { ...overrides },
    driver: options.driver ?? DEFAULTS.driver,
    sampler: { intervalMs },
    tailMs,
    hosts,
    ...(family !== 'ipv4' ? { family } : {}),
    ...(networks ? { networks } : {}),
    actors,
    thresholds,
    regressions,
    ...(profile ? { profile } : {}),
    ...(Object.keys(scaled.groups).length ? { replicas: scaled.groups } : {}),
    maxLoadMs,
    tools: tools.names(),
    ...(capture ? { capture } : {}),
  });
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
