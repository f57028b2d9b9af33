// Sysctl profiles: a named set of sysctls applied to a scenario's hosts by role or by name, over the
// scenario's own values, so one profile serves every scenario. Built in here; users write their own as JSON
// files ({ "name", "description", "sysctls": { "<target>": { "<sysctl>": value } } }, a target being
// "connecting" (hosts that open connections: clients and proxies), "accepting" (hosts that serve), "all", or a
// host's name). A profile is data, never code.
import { extname, resolve } from 'node:path';
import type { ActorPlan, HostPlan, PlanProfile } from '../core/plan.ts';
import { UsageError } from '../core/errors.ts';
import { readJsonInput } from '../core/input-file.ts';
import { checkShape, object, oneOf, optional, number, record, string } from '../core/shape.ts';
import { normaliseSysctlValue } from './sysctl-check.ts';

export interface Profile {
  readonly name: string;
  readonly description: string;
  /** Target ("connecting", "accepting", "all" or a host's name) -> sysctl -> value. */
  readonly sysctls: Readonly<Record<string, Readonly<Record<string, string | number>>>>;
  /** What the profile risks, from the kernel's behaviour (KERNEL.md): said beside its results. */
  readonly cost?: string;
  /** Where it came from: "built-in" or a file. */
  readonly source?: string;
}

export const BUILT_IN_PROFILES: readonly Profile[] = [
  {
    name: 'default',
    description: "changes nothing: the scenario's sysctls and the kernel's own values, read back",
    sysctls: {},
  },
  {
    name: 'tw-reuse',
    description: 'tcp_tw_reuse=1 on every host that opens connections',
    sysctls: { connecting: { 'net.ipv4.tcp_tw_reuse': 1 } },
    cost: 'connect() may take over a TIME_WAIT port once it is tcp_tw_reuse_delay old (1 s by default); it needs TCP timestamps (PAWS tells old segments from new), and protects only outgoing connections',
  },
  {
    name: 'tw-reuse-fast',
    description: 'tcp_tw_reuse=1 with tcp_tw_reuse_delay=100 ms (Linux 6.14+) on every host that opens connections',
    sysctls: { connecting: { 'net.ipv4.tcp_tw_reuse': 1, 'net.ipv4.tcp_tw_reuse_delay': 100 } },
    cost: 'ports come back after 100 ms instead of 1 s: a delayed segment of the old connection has less time to die out before the 4-tuple lives again (PAWS still drops those with older timestamps)',
  },
  {
    name: 'wide-ports',
    description: 'ip_local_port_range 15000-64999 (50,000 ports) on every host that opens connections',
    sysctls: { connecting: { 'net.ipv4.ip_local_port_range': '15000 64999' } },
    cost: 'a larger budget per destination ip:port only postpones exhaustion at a steady close rate above budget / 60 s; ports below 32768 may collide with services that listen there',
  },
  {
    name: 'narrow-ports',
    description: 'ip_local_port_range 40000-40499 (500 ports) on every host that opens connections',
    sysctls: { connecting: { 'net.ipv4.ip_local_port_range': '40000 40499' } },
    cost: 'a small budget runs out at a tenth of the rate a default range takes',
  },
  {
    name: 'short-fin-timeout',
    description: 'tcp_fin_timeout=5 on every host',
    sysctls: { all: { 'net.ipv4.tcp_fin_timeout': 5 } },
    cost: 'ends orphaned FIN_WAIT_2 sooner and nothing else: TIME_WAIT lasts 60 s whatever tcp_fin_timeout says (TCP_TIMEWAIT_LEN)',
  },
  {
    name: 'low-tw-buckets',
    description: 'tcp_max_tw_buckets=500 on every host',
    sysctls: { all: { 'net.ipv4.tcp_max_tw_buckets': 500 } },
    cost: 'closes past the cap skip TIME_WAIT (TcpExt.TCPTimeWaitOverflow): a late segment can land in a new connection on the same 4-tuple, and a lost last ACK is not answered again',
  },
  {
    name: 'rfc1337',
    description: 'tcp_rfc1337=1 on every host',
    sysctls: { all: { 'net.ipv4.tcp_rfc1337': 1 } },
    cost: 'an RST no longer ends a TIME_WAIT early (no assassination): TIME_WAIT counts match the theory, and ports stay held the full 60 s',
  },
  {
    name: 'no-timestamps',
    description: 'tcp_timestamps=0 on every host',
    sysctls: { all: { 'net.ipv4.tcp_timestamps': 0 } },
    cost: 'no PAWS, no RTT samples from timestamps, and tcp_tw_reuse cannot work (it needs timestamps)',
  },
  {
    name: 'tw-recycle',
    description: 'tcp_tw_recycle=1: refused, the sysctl was removed in Linux 4.12',
    sysctls: { connecting: { 'net.ipv4.tcp_tw_recycle': 1 } },
  },
];

/** A profile file: targets and sysctl names are own names (record() refuses constructor, __proto__, ...). */
const PROFILE_FILE_SHAPE = object({
  name: string(),
  description: optional(string()),
  sysctls: record(record(oneOf(string(), number()))),
});

/** A built-in profile by name, or a profile file (.json) by path. */
export function loadProfile(nameOrPath: string): Profile {
  const builtIn = BUILT_IN_PROFILES.find((p) => p.name === nameOrPath);
  if (builtIn) return { ...builtIn, source: 'built-in' };
  if (extname(nameOrPath) !== '.json') {
    throw new UsageError(
      `no profile "${nameOrPath}": built in are ${BUILT_IN_PROFILES.map((p) => p.name).join(', ')}; or give a .json file`,
    );
  }
  const file = resolve(nameOrPath);
  const p = checkShape(
    PROFILE_FILE_SHAPE,
    readJsonInput(file),
    (problem) =>
      new UsageError(
        `profile ${file}: ${problem} (a profile is { "name": "lower-case-name", "description": "...", "sysctls": { "connecting" | "accepting" | "all" | "<host>": { "net.*": value } } })`,
      ),
  );
  if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(p.name))
    throw new UsageError(`profile ${file}: name: expected lower-case letters, digits and "-" (at most 40)`);
  return { name: p.name, description: p.description ?? '', sysctls: p.sysctls, source: file };
}

/** Hosts each target names: by role, from the actors the plan resolved. */
function targetHosts(
  target: string,
  hosts: Readonly<Record<string, HostPlan>>,
  actors: Readonly<Record<string, ActorPlan>>,
): string[] | undefined {
  const all = Object.keys(hosts);
  if (target === 'all') return all;
  if (target === 'connecting') return all.filter((h) => Object.values(actors).some((a) => a.host === h && a.connect));
  if (target === 'accepting')
    return all.filter((h) => Object.values(actors).some((a) => a.host === h && a.role === 'server'));
  return Object.hasOwn(hosts, target) ? [target] : undefined;
}

/**
 * Applies a profile over the hosts' sysctls (the profile wins). Returns the hosts with their new sysctls and
 * the record the plan and the report keep: per host, each sysctl the profile set, with the scenario's value.
 */
export function applyProfile(
  profile: Profile,
  hosts: Readonly<Record<string, HostPlan>>,
  actors: Readonly<Record<string, ActorPlan>>,
  problems: string[],
): { hosts: Record<string, HostPlan>; record: PlanProfile } {
  const out: Record<string, HostPlan> = Object.fromEntries(
    Object.entries(hosts).map(([n, h]) => [n, { ...h, sysctls: { ...h.sysctls } }]),
  );
  const changes: Record<string, Record<string, { scenario: string | null; profile: string }>> = {};
  for (const [target, set] of Object.entries(profile.sysctls)) {
    const names = targetHosts(target, hosts, actors);
    if (!names) {
      problems.push(
        `profile ${profile.name}: "${target}" is not connecting, accepting, all or a host of this scenario (${Object.keys(hosts).join(', ')})`,
      );
      continue;
    }
    for (const host of names) {
      for (const [sysctl, value] of Object.entries(set)) {
        const v = normaliseSysctlValue(value);
        (changes[host] ??= {})[sysctl] = { scenario: hosts[host]!.sysctls[sysctl] ?? null, profile: v };
        (out[host]!.sysctls as Record<string, string>)[sysctl] = v;
      }
    }
  }
  return {
    hosts: out,
    record: {
      name: profile.name,
      description: profile.description,
      source: profile.source ?? 'built-in',
      changes,
      ...(profile.cost ? { cost: profile.cost } : {}),
    },
  };
}
