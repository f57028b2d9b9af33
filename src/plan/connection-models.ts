// An actor's connection model as its plan recorded it, or, for a plan made before the model was recorded
// (older report.json files and fixtures), as its kind derives it from the options that plan kept.
import type { ConnectionModel } from '../core/connection-model.ts';
import type { ActorPlan } from '../core/plan.ts';
import { actorKind } from '../actors/registry.ts';

const NONE: ConnectionModel = { dials: [] };

/** An actor the plan does not have (undefined) makes no connections. */
export function connectionsOf(actor: ActorPlan | undefined): ConnectionModel {
  if (!actor) return NONE;
  return actor.connections ?? actorKind(actor.kind)?.connections(actor as never) ?? NONE;
}
