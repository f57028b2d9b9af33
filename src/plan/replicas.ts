// Replicas of a client host: `--scale client=3` (or a host's `replicas: 3`) runs the host three times, each copy
// with its own address, sysctls and port budget, and each of its actors once per copy. Replica 1 keeps the
// names (thresholds and findings about `client` and `flood` read it as before); the others are client_2,
// flood_2, ... The report adds them up per group (report/replicas.ts).
import type { ReplicaGroup } from '../core/plan.ts';
import type { ScenarioSpec } from '../core/scenario.ts';
import { actorKind } from '../actors/registry.ts';
import { UsageError } from '../core/errors.ts';

/** The lab's /24 holds 254 auto-addressed hosts: 200 replicas leave room for the servers they load. */
export const MAX_REPLICAS = 200;
/**
 * Past this many, every replica's actors must be ones an agent of many hosts serves (lab/groupable-hosts.ts): a
 * Node agent per replica (about 100 MB and 100-200 ms of start each) drove a 200-host lab to a load of 218 on two
 * cores and its agents were never ready.
 */
export const MAX_REPLICAS_WITH_OWN_AGENTS = 16;

export type ReplicaGroups = Readonly<Record<string, ReplicaGroup>>;

export const replicaName = (name: string, i: number) => (i === 1 ? name : `${name}_${i}`);

/** `--scale host=N` flags into counts; a malformed one is a problem, not a throw. */
export function parseScaleFlags(flags: readonly string[], problems: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const flag of flags) {
    const m = /^([a-z][a-z0-9]{0,11})=(\d{1,3})$/.exec(flag);
    if (!m) problems.push(`--scale ${flag}: expected host=N, e.g. --scale client=3`);
    else out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** --scale flags as the plan takes them; a malformed one is a usage error (exit 2). */
export function scaleOf(flags: readonly string[]): Record<string, number> {
  const problems: string[] = [];
  const scale = parseScaleFlags(flags, problems);
  if (problems.length) throw new UsageError(problems.join('; '));
  return scale;
}

/** The spec with every scaled host copied; `groups` names the copies. Problems for what cannot be scaled. */
export function scaleSpec(
  spec: ScenarioSpec,
  flags: Readonly<Record<string, number>>,
  problems: string[],
  ownAgentsCap: number = MAX_REPLICAS_WITH_OWN_AGENTS,
): { spec: ScenarioSpec; groups: ReplicaGroups } {
  const counts: Record<string, number> = {};
  for (const [name, host] of Object.entries(spec.hosts ?? {}))
    if (host.replicas !== undefined) counts[name] = host.replicas;
  Object.assign(counts, flags);
  const hosts = { ...spec.hosts };
  const actors = { ...spec.actors };
  const groups: Record<string, { hosts: string[]; actors: Record<string, string[]>; scenarioReplicas?: number }> = {};
  for (const [name, n] of Object.entries(counts)) {
    const where = `replicas of host ${name}`;
    const host = spec.hosts && Object.hasOwn(spec.hosts, name) ? spec.hosts[name] : undefined;
    if (!host) {
      problems.push(`--scale ${name}=${n}: no host "${name}" (hosts: ${Object.keys(spec.hosts ?? {}).join(', ')})`);
      continue;
    }
    if (!Number.isInteger(n) || n < 1 || n > MAX_REPLICAS) {
      problems.push(`${where}: ${n} is not a count from 1 to ${MAX_REPLICAS}`);
      continue;
    }
    const own = Object.entries(spec.actors ?? {}).filter(([, a]) => a.host === name);
    // The scenario's options as written: a native short-conn client on one worker, as groupable() reads them resolved.
    const grouped = own.every(
      ([, a]) =>
        a.kind === 'short-conn-client' &&
        (a as { engine?: unknown }).engine === 'native' &&
        ((a as { workers?: unknown }).workers ?? 1) === 1,
    );
    // A scenario's own host or actor of a replica's name would be replaced by that replica without a word.
    const taken = Array.from({ length: n - 1 }, (_, k) => k + 2).flatMap((i) => [
      ...(Object.hasOwn(spec.hosts ?? {}, replicaName(name, i)) ? [`host ${replicaName(name, i)}`] : []),
      ...own.flatMap(([a]) =>
        Object.hasOwn(spec.actors ?? {}, replicaName(a, i)) ? [`actor ${replicaName(a, i)}`] : [],
      ),
    ]);
    const refusal =
      taken.length > 0
        ? `the scenario has its own ${taken.join(', ')}, the name${taken.length > 1 ? 's' : ''} of a replica`
        : spec.networks !== undefined
          ? 'a lab that declares networks cannot be scaled'
          : host.address !== undefined
            ? `host ${name} has a fixed address (${host.address}), which its replicas cannot share`
            : own.some(([, a]) => actorKind(a.kind)?.role !== 'load')
              ? `host ${name} runs a server; only a host of load actors (clients) can be scaled, since everything that connects to a server names one address`
              : n > ownAgentsCap && (!grouped || host.limits?.nofile !== undefined)
                ? `more than ${ownAgentsCap} replicas need hosts that one agent serves together: short-conn-client actors with engine native and one worker, and no nofile limit (in a scenario file: engine: 'native' on its short-conn-client actors; the short-conn scenario: --set engine=native)`
                : undefined;
    if (refusal) {
      problems.push(`${where}: ${refusal}`);
      continue;
    }
    const { replicas: _count, ...copy } = host;
    hosts[name] = copy;
    groups[name] = { hosts: [], actors: Object.fromEntries(own.map(([a]) => [a, [] as string[]])) };
    // A scenario's count that --scale replaced is kept beside the count run: its parameters may still say the other.
    if (flags[name] !== undefined && host.replicas !== undefined && host.replicas !== n)
      groups[name].scenarioReplicas = host.replicas;
    for (let i = 1; i <= n; i++) {
      hosts[replicaName(name, i)] = copy;
      groups[name].hosts.push(replicaName(name, i));
      for (const [a, actor] of own) {
        actors[replicaName(a, i)] = { ...actor, host: replicaName(name, i) };
        groups[name].actors[a]!.push(replicaName(a, i));
      }
    }
  }
  return { spec: { ...spec, hosts, actors }, groups };
}
