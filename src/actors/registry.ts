// One registry, one file per kind (after k6's lib/executor).
import type { ActorKind } from './actor.ts';
import { httpServer } from './http-server.ts';
import { keepaliveClient } from './keepalive-client.ts';
import { listener } from './listener.ts';
import { proxy } from './proxy.ts';
import { shortConnClient } from './short-conn-client.ts';

const kinds: readonly ActorKind<any>[] = [httpServer, listener, shortConnClient, proxy, keepaliveClient];

export const actorKinds: ReadonlyMap<string, ActorKind<any>> = new Map(kinds.map((k) => [k.kind, k]));

export function actorKind(kind: string): ActorKind<any> | undefined {
  return actorKinds.get(kind);
}
