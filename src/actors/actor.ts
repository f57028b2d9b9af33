// The actor contract: every actor kind is one file that exports an ActorKind, registered by name in
// registry.ts. A kind is generic over its options (F), the stats it reports (S) and what its link() resolves
// from other actors (L), so the report's entry for an actor is typed by its kind (report/report.ts).
import type { Field, Fields, ValuesOf } from '../core/fields.ts';
import type { ConnectionModel } from '../core/connection-model.ts';
import type { ActorPlan, ActorRole, HostPlan } from '../core/plan.ts';

export type { ActorRole };

export interface ActorContext {
  readonly plan: ActorPlan;
  /** Milliseconds since the run's common zero (monotonic within the agent). */
  now(): number;
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>): void;
  /** A line its own process printed, for `<actor>.log` in the run directory (the actor caps what it sends). */
  output?(line: string): void;
  /** The actor can no longer do its work (its process exited mid-run): the run stops with this error, its report whole. */
  fail?(err: Error): void;
  /**
   * The host's network namespace (its name under /run/netns), where the agent serves the host from outside it
   * (an agent of many hosts): the actor's sockets must be made on a thread inside it. Absent: the agent is inside.
   */
  readonly namespace?: string;
}

export interface Actor<S extends object = object> {
  /** Servers: resolves once listening. Load actors: resolves once the load has begun. */
  start(): Promise<void>;
  /** Resolves when a load actor's load has ended by itself (duration or count); servers: when closed. */
  readonly done: Promise<void>;
  /** Graceful: stop taking work, let what is in flight finish. */
  close(): Promise<void>;
  /** Abrupt: drop everything now. */
  destroy(): void;
  /** A read-only, JSON-serialisable snapshot. */
  stats(): S;
}

export interface LinkContext {
  /** The actor being linked. */
  readonly self: { readonly name: string; readonly host: string };
  readonly hosts: Readonly<Record<string, HostPlan>>;
  /** The scenario file's directory, where relative paths of a scenario start. */
  readonly scenarioDir: string;
  /** Other actors as given in the scenario, options resolved. */
  readonly actors: Readonly<Record<string, { kind: string; host: string; options: Record<string, unknown> }>>;
  /** Actors whose own options were refused: a link to one is not refused again for what they lack (its port). */
  readonly refused: ReadonlySet<string>;
  /** Declares a system tool (core/system-tools.ts) this actor runs; returns its path, undefined when not installed. */
  needTool(name: string): string | undefined;
}

/** The plan of one actor of a kind: its resolved options, and what link() resolved, merged into the ActorPlan. */
export type PlanOf<F extends Fields, L extends object> = ActorPlan & { readonly options: ValuesOf<F> } & Readonly<L>;

export interface ActorKind<
  K extends string = string,
  F extends Fields = Fields,
  S extends object = object,
  L extends object = object,
> {
  readonly kind: K;
  readonly role: ActorRole;
  readonly describe: string;
  readonly options: F;
  /**
   * Cross-actor checks and resolved references (e.g. a client's `connect`, a proxy's upstreams). Pushes
   * problems and returns the links, merged into the actor's plan; undefined only when it pushed a problem.
   */
  link?(options: ValuesOf<F>, ctx: LinkContext, where: string, problems: string[]): L | undefined;
  /** Its connections as the plan expects them, from its options and links: recorded in the plan, read by the report. */
  connections(plan: PlanOf<F, L>): ConnectionModel;
  /** Load actors: the longest the load can run, so the run and its agents are bounded. */
  maxDurationMs?(options: ValuesOf<F>): number;
  /** Servers that may take longer than the agent's usual start to listen: the most start() may take. */
  readyWithinMs?(options: ValuesOf<F>): number;
  /** Actors whose close() may take longer than the agent's usual close: the most it may take. */
  closeWithinMs?(options: ValuesOf<F>): number;
  /** Keys of its stats that settle only when it stops (a process's exit): the report takes these from the stop. */
  readonly settledByStop?: readonly string[];
  /** Why the compose driver cannot run this kind (exit 3 before anything is built); absent: it can. */
  readonly composeRefusal?: string;
  create(plan: PlanOf<F, L>, ctx: ActorContext): Actor<S>;
}

export function defineActorKind<const K extends string, F extends Fields, S extends object, L extends object = object>(
  kind: ActorKind<K, F, S, L>,
): ActorKind<K, F, S, L> {
  return kind;
}

/** The stats an actor kind reports. */
export type StatsOf<A> = A extends ActorKind<string, Fields, infer S, object> ? S : never;

export type { Field };
