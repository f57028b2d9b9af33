// Which hosts of a netns lab an agent of many hosts may serve: those whose every actor can run from outside the
// host's namespace, which today is the short-conn-client on its native engine with one worker (its sockets made on
// a thread inside the host, native/flood.c runIn), and hosts that only sample. Process-level isolation stays where
// it matters: servers, proxies, user processes and node-engine clients make their sockets in their agent's own
// namespace, a nofile limit is a process's, and a gateway's conntrack counters are read inside it.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Plan } from '../core/plan.ts';

/**
 * Fewest hosts an agent process is worth: a Node process (about 50 MB and 100-200 ms of start) per few hosts costs
 * more than the hosts' samplers and floods save by running in parallel.
 */
export const MIN_HOSTS_PER_GROUP = 25;

/**
 * Hosts per agent process: the groupable hosts shared evenly between one process per core, no fewer than
 * MIN_HOSTS_PER_GROUP each. More processes than cores only add Node starts: on 2 cores, 200 hosts in two groups of
 * 100 were ready (lab built to load starting) in 1.0 s, in four groups of 50 in 1.2 s (docs/benchmarks.md).
 */
export function hostsPerGroup(hosts: number, cores = availableParallelism()): number {
  return Math.max(MIN_HOSTS_PER_GROUP, Math.ceil(hosts / Math.max(1, cores)));
}

/** Environment switch for comparing with one agent per host (the bench's peer): WAITLAB_AGENT_GROUPS=off. */
export const AGENT_GROUPS_ENV = 'WAITLAB_AGENT_GROUPS';

type PlanActor = Plan['actors'][string];

function groupableWith(plan: Plan, host: string, actors: readonly PlanActor[]): boolean {
  if (process.env[AGENT_GROUPS_ENV] === 'off') return false;
  const hp = plan.hosts[host];
  if (!hp || hp.limits?.nofile !== undefined || hp.gateway !== undefined) return false;
  return actors.every(
    (a) => a.kind === 'short-conn-client' && a.options['engine'] === 'native' && a.options['workers'] === 1,
  );
}

function actorsOn(plan: Plan, host: string): PlanActor[] {
  return Object.values(plan.actors).filter((a) => a.host === host);
}

export function groupable(plan: Plan, host: string): boolean {
  return groupableWith(plan, host, actorsOn(plan, host));
}

/** What one grouped host holds open besides its connections: /proc/net tables, sysctls, netlink, epoll, eventfds. */
const HOST_FDS = 16;

/**
 * The most file descriptors a grouped host's floods can hold at once: the open model's maxInFlight, the closed
 * model's concurrency. The group's floods share one process's RLIMIT_NOFILE, so the group is sized by it too:
 * an EMFILE of the group's limit would otherwise land in one host's errors as if that host had run out.
 */
export function fdNeed(plan: Plan, host: string, actors = actorsOn(plan, host)): number {
  return (
    HOST_FDS +
    actors.reduce(
      (n, a) => n + Number(a.options['model'] === 'closed' ? a.options['concurrency'] : a.options['maxInFlight']),
      0,
    )
  );
}

/** Descriptors a group may plan for: most of the hard open-files limit the group process inherits (Node raises its soft limit to it). */
export function groupFdBudget(): number {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const hard = /^Max open files\s+\S+\s+(\S+)/m.exec(limits)?.[1];
  const n = hard === undefined || hard === 'unlimited' ? 1_048_576 : Number(hard);
  return Math.floor(n * 0.8);
}

/**
 * The agent group (0, 1, ...) serving each host that an agent of many hosts may serve, in host order: a group takes
 * hosts while it has fewer than hostsPerGroup and their descriptors fit its budget. Fewer than two such hosts are
 * not grouped: an agent of many hosts is worth its setup only where there are many.
 */
export function assignGroups(
  plan: Plan,
  hostNames: readonly string[],
  fdBudget = groupFdBudget(),
  cores = availableParallelism(),
): Map<string, number> {
  const byHost = new Map<string, PlanActor[]>(hostNames.map((h) => [h, []]));
  for (const a of Object.values(plan.actors)) byHost.get(a.host)?.push(a);
  const candidates = hostNames.filter((h) => groupableWith(plan, h, byHost.get(h)!));
  const groupOf = new Map<string, number>();
  if (candidates.length < 2) return groupOf;
  const most = hostsPerGroup(candidates.length, cores);
  let group = -1;
  let size = most;
  let fds = 0;
  for (const host of candidates) {
    const need = fdNeed(plan, host, byHost.get(host));
    if (size >= most || fds + need > fdBudget) {
      group++;
      size = 0;
      fds = 0;
    }
    size++;
    fds += need;
    groupOf.set(host, group);
  }
  return groupOf;
}

/** How many agent processes an assignment needs. */
export function groupCount(groupOf: ReadonlyMap<string, number>): number {
  let most = -1;
  for (const k of groupOf.values()) most = Math.max(most, k);
  return most + 1;
}
