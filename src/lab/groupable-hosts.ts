// Which hosts of a netns lab an agent of many hosts may serve: those whose every actor can run from outside the
// host's namespace, which today is the short-conn-client on its native engine with one worker (its sockets made on
// a thread inside the host, native/flood.c runIn), and hosts that only sample. Process-level isolation stays where
// it matters: servers, proxies, user processes and node-engine clients make their sockets in their agent's own
// namespace, a nofile limit is a process's, and a gateway's conntrack counters are read inside it.
import type { Plan } from '../core/plan.ts';

/** Hosts per agent process: two cores share the hosts' samplers between a few processes rather than one loop. */
export const HOSTS_PER_GROUP = 50;

/** Environment switch for comparing with one agent per host (the bench's peer): WAITLAB_AGENT_GROUPS=off. */
export const AGENT_GROUPS_ENV = 'WAITLAB_AGENT_GROUPS';

export function groupable(plan: Plan, host: string): boolean {
  if (process.env[AGENT_GROUPS_ENV] === 'off') return false;
  const hp = plan.hosts[host];
  if (!hp || hp.limits?.nofile !== undefined || hp.gateway !== undefined) return false;
  return Object.values(plan.actors)
    .filter((a) => a.host === host)
    .every((a) => a.kind === 'short-conn-client' && a.options['engine'] === 'native' && a.options['workers'] === 1);
}
