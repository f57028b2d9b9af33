// The names a metric path may use in one plan: its hosts (replicas among them) and actors, and the TCP states
// the sampler counts.
import type { MetricNames } from '../core/metric-paths.ts';
import type { ActorPlan, HostPlan } from '../core/plan.ts';
import { TCP_STATES } from '../sampler/tcp-states.ts';

export function metricNamesOf(plan: {
  hosts: Readonly<Record<string, HostPlan>>;
  actors: Readonly<Record<string, ActorPlan>>;
}): MetricNames {
  return { host: Object.keys(plan.hosts), actor: Object.keys(plan.actors), state: TCP_STATES };
}
