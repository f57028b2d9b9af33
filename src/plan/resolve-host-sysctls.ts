// The sysctls each host ends with: a sysctl profile (--profile) applied over the scenario's, then every value
// checked against what the kernel would take. Whether a namespace has each sysctl at all is the probe's
// question (probeSysctls), asked of the machine apart from this.
import type { ActorPlan, HostPlan, PlanProfile } from '../core/plan.ts';
import { applyProfile, type Profile } from './profiles.ts';
import { sysctlValueProblem } from './sysctl-values.ts';

export interface ResolvedHostSysctls {
  hosts: Record<string, HostPlan>;
  profile: PlanProfile | undefined;
  /** The hosts' sysctl names with those the profile sets. */
  sysctlNames: Set<string>;
  problems: string[];
}

export function resolveHostSysctls(
  hosts: Readonly<Record<string, HostPlan>>,
  actors: Readonly<Record<string, ActorPlan>>,
  profile: Profile | undefined,
  sysctlNames: ReadonlySet<string>,
): ResolvedHostSysctls {
  const problems: string[] = [];
  const names = new Set(sysctlNames);
  let out: Record<string, HostPlan> = { ...hosts };
  let record: PlanProfile | undefined;
  if (profile) {
    const applied = applyProfile(profile, hosts, actors, problems);
    out = { ...out, ...applied.hosts };
    record = applied.record;
    for (const set of Object.values(record.changes)) for (const name of Object.keys(set)) names.add(name);
  }
  for (const [name, host] of Object.entries(out)) {
    for (const [key, value] of Object.entries(host.sysctls)) {
      const problem = sysctlValueProblem(key, value);
      if (problem)
        problems.push(
          `hosts.${name}.sysctls: ${problem}${record?.changes[name]?.[key] ? ` (from profile ${record.name})` : ''}`,
        );
    }
  }
  return { hosts: out, profile: record, sysctlNames: names, problems };
}
