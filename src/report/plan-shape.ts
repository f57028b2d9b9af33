// The resolved plan as report.json and log.ndjson's "run starting" line carry it, checked against core/plan.ts.
import type {
  Accept,
  BeyondPool,
  Burst,
  ConnectionModel,
  Dial,
  Endpoint,
  LocalPorts,
  OfferedLoad,
  PerRequest,
} from '../core/connection-model.ts';
import type {
  ActorPlan,
  CapturePlan,
  HostPlan,
  InterfacePlan,
  NetworkPlan,
  Plan,
  PlanProfile,
  ReplicaGroup,
} from '../core/plan.ts';
import {
  array,
  boolean,
  json,
  literal,
  nullable,
  number,
  objectOf,
  oneOf,
  optional,
  record,
  string,
  type Shape,
} from '../core/shape.ts';

const interfacePlan = objectOf<InterfacePlan>()({
  network: string(),
  dev: string(),
  address: string(),
  prefixLength: number(),
  address6: optional(string()),
});

const hostPlan = objectOf<HostPlan>()({
  name: string(),
  address: string(),
  prefixLength: number(),
  address6: optional(string()),
  sysctls: record(string()),
  limits: optional(objectOf<NonNullable<HostPlan['limits']>>()({ nofile: optional(number()) })),
  interfaces: optional(array(interfacePlan)),
  routes: optional(array(objectOf<NonNullable<HostPlan['routes']>[number]>()({ to: string(), via: string() }))),
  gateway: optional(
    objectOf<NonNullable<HostPlan['gateway']>>()({
      masquerade: optional(
        objectOf<NonNullable<NonNullable<HostPlan['gateway']>['masquerade']>>()({
          network: string(),
          dev: string(),
          address: string(),
          address6: optional(string()),
          ports: optional(objectOf<{ lo: number; hi: number }>()({ lo: number(), hi: number() })),
          randomFully: optional(boolean()),
        }),
      ),
    }),
  ),
});

const closeStyle = literal('graceful', 'rst', 'close', 'never');
const endpoint = objectOf<Endpoint>()({ actor: string(), host: string(), address: string(), port: number() });
const localPorts: Shape<LocalPorts> = oneOf(
  objectOf<Extract<LocalPorts, { from: 'range' }>>()({ from: literal('range') }),
  oneOf(
    objectOf<Extract<LocalPorts, { from: 'bind-before-connect' }>>()({
      from: literal('bind-before-connect'),
      address: string(),
    }),
    oneOf(
      objectOf<Extract<LocalPorts, { from: 'fixed' }>>()({ from: literal('fixed'), port: number() }),
      objectOf<Extract<LocalPorts, { from: 'own-range' }>>()({
        from: literal('own-range'),
        lo: number(),
        hi: number(),
      }),
    ),
  ),
);
const beyondPool: Shape<BeyondPool> = oneOf(
  objectOf<Extract<BeyondPool, { request: 'waits' }>>()({ request: literal('waits') }),
  objectOf<Extract<BeyondPool, { request: 'opens-and-closes' }>>()({
    request: literal('opens-and-closes'),
    idleKept: number(),
    most: optional(number()),
  }),
);
const perRequest: Shape<PerRequest> = oneOf(
  objectOf<Extract<PerRequest, { pooled: false }>>()({ pooled: literal(false) }),
  objectOf<Extract<PerRequest, { pooled: true }>>()({
    pooled: literal(true),
    connections: number(),
    idleTimeoutMs: optional(number()),
    idleHintMarginMs: optional(number()),
    beyondPool: optional(beyondPool),
  }),
);
const dial = objectOf<Dial>()({
  to: endpoint,
  sourceAddress: optional(string()),
  localPorts,
  perRequest,
  closer: literal('client', 'server'),
  closeStyle,
  requestBodyBytes: number(),
  writesAfterPeerClose: boolean(),
  giveUpAfterMs: optional(number()),
  retries: optional(literal('none', 'idempotent', 'all')),
});
const accept = objectOf<Accept>()({
  port: number(),
  backlog: optional(number()),
  acceptAfterMs: number(),
  reuseAddr: boolean(),
  restart: optional(objectOf<NonNullable<Accept['restart']>>()({ reuseAddr: boolean() })),
  keepAlive: boolean(),
  idleTimeoutMs: optional(number()),
  idleHintMs: optional(number()),
  closeStyle,
  unreadBody: boolean(),
  answersAfterMs: optional(number()),
});
const offeredLoad: Shape<OfferedLoad> = oneOf(
  objectOf<Extract<OfferedLoad, { model: 'open' }>>()({
    model: literal('open'),
    ratePerSec: number(),
    durationMs: number(),
    count: optional(number()),
    burst: optional(objectOf<Burst>()({ size: number(), everyMs: number() })),
  }),
  objectOf<Extract<OfferedLoad, { model: 'closed' }>>()({
    model: literal('closed'),
    concurrency: number(),
    durationMs: number(),
    count: optional(number()),
  }),
);
const connectionModel = objectOf<ConnectionModel>()({
  accepts: optional(accept),
  dials: array(dial),
  load: optional(offeredLoad),
  nofile: optional(number()),
});

const actorPlan = objectOf<ActorPlan>()({
  name: string(),
  kind: string(),
  role: literal('server', 'load'),
  host: string(),
  options: record(json()),
  listenAddress: optional(literal('::')),
  connect: optional(
    objectOf<NonNullable<ActorPlan['connect']>>()({
      actor: string(),
      host: string(),
      address: string(),
      port: number(),
    }),
  ),
  connections: optional(connectionModel),
  files: optional(record(string())),
});

export const PLAN_PROFILE_SHAPE = objectOf<PlanProfile>()({
  name: string(),
  description: string(),
  source: string(),
  changes: record(
    record(objectOf<PlanProfile['changes'][string][string]>()({ scenario: nullable(string()), profile: string() })),
  ),
  cost: optional(string()),
});

/** A plan as a report or a log of any version holds it: `regressions` came with regression checks, older reports lack it. */
export type StoredPlan = Omit<Plan, 'regressions'> & { readonly regressions?: Plan['regressions'] };

/** A stored plan as the code reads it: what an older report lacks, filled in with what it meant (no tolerances). */
export function planOf(stored: StoredPlan): Plan {
  return { ...stored, regressions: stored.regressions ?? {} };
}

export const PLAN_SHAPE = objectOf<StoredPlan>()({
  schemaVersion: literal(1),
  scenario: objectOf<Plan['scenario']>()({ name: string(), description: string(), file: string() }),
  params: record(json()),
  overrides: record(string()),
  sysctlFlags: optional(array(string())),
  driver: string(),
  sampler: objectOf<Plan['sampler']>()({ intervalMs: number() }),
  tailMs: number(),
  hosts: record(hostPlan),
  family: optional(literal('ipv6', 'dual')),
  networks: optional(
    record(objectOf<NetworkPlan>()({ name: string(), subnet: string(), subnet6: optional(string()) })),
  ),
  actors: record(actorPlan),
  thresholds: array(string()),
  regressions: optional(record(string())),
  profile: optional(PLAN_PROFILE_SHAPE),
  replicas: optional(
    record(
      objectOf<ReplicaGroup>()({
        hosts: array(string()),
        actors: record(array(string())),
        scenarioReplicas: optional(number()),
      }),
    ),
  ),
  maxLoadMs: number(),
  tools: optional(array(string())),
  capture: optional(objectOf<CapturePlan>()({ hosts: array(string()), snaplen: number(), maxBytes: number() })),
});
