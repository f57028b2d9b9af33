// The actor contract: every actor kind is one file that exports an ActorKind, registered by name.
import type { Field, Fields, ValuesOf } from '../core/fields.ts';
import type { ActorPlan, ActorRole, HostPlan } from '../core/plan.ts';

export type { ActorRole };

export interface ActorContext {
  readonly plan: ActorPlan;
  /** Milliseconds since the run's common zero (monotonic within the agent). */
  now(): number;
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>): void;
}

export interface Actor {
  /** Servers: resolves once listening. Load actors: resolves once the load has begun. */
  start(): Promise<void>;
  /** Resolves when a load actor's load has ended by itself (duration or count); servers: when closed. */
  readonly done: Promise<void>;
  /** Graceful: stop taking work, let what is in flight finish. */
  close(): Promise<void>;
  /** Abrupt: drop everything now. */
  destroy(): void;
  /** A read-only, JSON-serialisable snapshot. */
  stats(): Record<string, unknown>;
}

export interface LinkContext {
  /** The actor being linked. */
  readonly self: { readonly name: string; readonly host: string };
  readonly hosts: Readonly<Record<string, HostPlan>>;
  /** Other actors as given in the scenario, options resolved. */
  readonly actors: Readonly<Record<string, { kind: string; host: string; options: Record<string, unknown> }>>;
}

export interface ActorKind<F extends Fields = Fields> {
  readonly kind: string;
  readonly role: ActorRole;
  readonly describe: string;
  readonly options: F;
  /** Cross-actor checks and resolved references (e.g. a client's target). Push problems, return extras. */
  link?(options: ValuesOf<F>, ctx: LinkContext, where: string, problems: string[]): Pick<ActorPlan, 'connect'> | undefined;
  /** Load actors: the longest the load can run, so the run and its agents are bounded. */
  maxDurationMs?(options: ValuesOf<F>): number;
  create(plan: ActorPlan & { options: ValuesOf<F> }, ctx: ActorContext): Actor;
}

export function defineActorKind<F extends Fields>(kind: ActorKind<F>): ActorKind<F> {
  return kind;
}

export type { Field };
