// The names a metric path may use in one plan: its hosts (replicas among them) and actors, and the TCP states
// the sampler counts, and what an actor's entry in the report may hold.
import type { MetricNames } from '../core/metric-paths.ts';
import type { ActorPlan, HostPlan } from '../core/plan.ts';
import { TCP_STATES } from '../sampler/tcp-states.ts';
import { ACTOR_STAT_NAMES } from '../actors/stat-names.ts';

export function metricNamesOf(plan: {
  hosts: Readonly<Record<string, HostPlan>>;
  actors: Readonly<Record<string, ActorPlan>>;
}): MetricNames {
  return { host: Object.keys(plan.hosts), actor: Object.keys(plan.actors), state: TCP_STATES, stat: ACTOR_STAT_NAMES };
}
