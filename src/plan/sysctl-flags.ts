// --sysctl host:name=value on the command line: a sysctl for one host of the scenario, on top of the scenario's
// own, validated exactly as the scenario file's sysctls are (resolvePlan puts it into the host before checking).
// A host that --scale or `replicas` copies takes its flags before it is copied, so every replica has them; a replica
// (client_3) takes its own after, over what it copied, so one replica can be tuned apart from the others.
import type { ScenarioSpec } from '../core/scenario.ts';

export interface SysctlFlag {
  readonly host: string;
  readonly name: string;
  readonly value: string;
}

/** Parses "host:name=value" flags; a malformed one is a problem naming the flag. */
export function parseSysctlFlags(flags: readonly string[], problems: string[]): SysctlFlag[] {
  const out: SysctlFlag[] = [];
  for (const flag of flags) {
    const m = /^([^:=\s]+):([^=\s]+)=(.*)$/.exec(flag);
    if (!m) problems.push(`--sysctl ${flag}: expected host:name=value (e.g. client:net.ipv4.tcp_tw_reuse=1)`);
    else out.push({ host: m[1]!, name: m[2]!, value: m[3]! });
  }
  return out;
}

/**
 * The flags naming a host of the scenario as written, and the rest (a replica's, or a host that does not exist),
 * for applySysctlFlags before and after the replicas are made.
 */
export function splitSysctlFlags(
  spec: ScenarioSpec,
  flags: readonly string[],
): { scenarioHosts: string[]; others: string[] } {
  // A malformed flag goes with the first part, which reports it.
  const other = (flag: string) => {
    const colon = flag.indexOf(':');
    return colon > 0 && !Object.hasOwn(spec.hosts ?? {}, flag.slice(0, colon));
  };
  return { scenarioHosts: flags.filter((f) => !other(f)), others: flags.filter(other) };
}

/** The spec with each --sysctl flag put into its host, over the scenario's own; a flag naming no host is a problem. */
export function applySysctlFlags(
  spec: ScenarioSpec,
  flags: readonly string[],
): { spec: ScenarioSpec; problems: string[] } {
  const problems: string[] = [];
  let out = spec;
  for (const { host, name, value } of parseSysctlFlags(flags, problems)) {
    const target = out.hosts && Object.hasOwn(out.hosts, host) ? out.hosts[host] : undefined;
    if (!target)
      problems.push(
        `--sysctl ${host}:${name}=${value}: no host "${host}" (hosts: ${Object.keys(out.hosts ?? {}).join(', ')})`,
      );
    else
      out = { ...out, hosts: { ...out.hosts, [host]: { ...target, sysctls: { ...target.sysctls, [name]: value } } } };
  }
  return { spec: out, problems };
}
