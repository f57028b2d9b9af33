// How long the agents and the controller wait for actors that may take longer than the usual start and stop (a
// user's process with its own ready timeout and stop grace). Each level still ends before the one above gives up
// (core/defaults.ts STOP_TIMEOUTS), so a slow close ends in that level's own destroy().
import { actorKind } from '../actors/registry.ts';
import { DEFAULTS, STOP_TIMEOUTS } from '../core/defaults.ts';
import type { ActorPlan } from '../core/plan.ts';

/** Room between an actor's own limit and the wait around it: the messages that carry its outcome. */
const MARGIN_MS = 2_000;

function longest(actors: readonly ActorPlan[], of: 'readyWithinMs' | 'closeWithinMs'): number {
  return Math.max(0, ...actors.map((a) => actorKind(a.kind)?.[of]?.(a.options as never) ?? 0));
}

/** The controller's wait for every agent's "serving". */
export function serveTimeoutMs(actors: readonly ActorPlan[]): number {
  return Math.max(DEFAULTS.agentReadyTimeoutMs, longest(actors, 'readyWithinMs') + MARGIN_MS);
}

/** An agent's wait for its actors' close() before it destroys them. */
export function agentCloseTimeoutMs(actors: readonly ActorPlan[]): number {
  return Math.max(STOP_TIMEOUTS.agentCloseMs, longest(actors, 'closeWithinMs') + MARGIN_MS);
}

/** The controller's wait for an agent's "stopped" before it kills the agent. */
export function agentStopTimeoutMs(actors: readonly ActorPlan[]): number {
  return agentCloseTimeoutMs(actors) + (STOP_TIMEOUTS.agentStopMs - STOP_TIMEOUTS.agentCloseMs);
}
