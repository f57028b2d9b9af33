// One registry, one file per kind (after k6's lib/executor). A new kind is a file exporting an ActorKind
// and a line here; the report's per-actor entry follows from this list (report/report.ts).
import type { ActorKind, StatsOf } from './actor.ts';
import { httpClient } from './http-client.ts';
import { httpServer } from './http-server.ts';
import { keepaliveClient } from './keepalive-client.ts';
import { listener } from './listener.ts';
import { processActor } from './process.ts';
import { proxy } from './proxy.ts';
import { shortConnClient } from './short-conn-client.ts';

const KINDS = [httpServer, listener, shortConnClient, proxy, keepaliveClient, httpClient, processActor] as const;

/** The union of every registered kind, for types keyed by kind. */
export type RegisteredActorKind = (typeof KINDS)[number];

/** What any registered kind's stats() returns. */
export type AnyActorStats = StatsOf<RegisteredActorKind>;

export const actorKinds: ReadonlyMap<string, ActorKind<string, any, object, any>> = new Map(
  KINDS.map((k) => [k.kind, k as ActorKind<string, any, object, any>]),
);

export function actorKind(kind: string): ActorKind<string, any, object, any> | undefined {
  return actorKinds.get(kind);
}
