// The scenario a user writes, typed from the actor registry: `kind` picks one registered kind and its own
// options, in the forms the fields accept ('5s', '300/s', '40000-40999'), so an editor completes them and tsc
// rejects a misspelt option or a kind that does not exist. The loader still checks everything at run time
// (a scenario may be plain JavaScript); these types only move the same rules into the editor.
import type { Fields, InputOf, ValuesOf } from '../core/fields.ts';
import type { ScenarioDefinition as UncheckedDefinition, ScenarioSpec as UncheckedSpec } from '../core/scenario.ts';
import type { ActorKind } from './actor.ts';
import type { RegisteredActorKind } from './registry.ts';

/** Spelt out as one object type, so that the editor's messages show the options rather than an intersection. */
type Flat<T> = { [K in keyof T]: T[K] } & {};

/** Options with neither a default nor f.optional(): a scenario must give them (e.g. a client's `target`). */
type MustGive<F extends Fields> = { [K in keyof F]-?: F[K] extends { readonly required?: true } ? K : never }[keyof F];

/** A kind's options as a scenario writes them: required ones required, every other one optional. */
export type InputsOf<F extends Fields> = Flat<
  { [K in MustGive<F>]: InputOf<F[K]> } & { [K in Exclude<keyof F, MustGive<F>>]?: InputOf<F[K]> }
>;

/** One kind's actor in a scenario: its kind, its host, its options. */
type SpecOfKind<A> =
  A extends ActorKind<infer K, infer F, object, object> ? Flat<{ kind: K; host: string } & InputsOf<F>> : never;

/** Any registered kind's actor: a union discriminated by `kind`. */
export type ActorSpec = SpecOfKind<RegisteredActorKind>;

/** The name of every registered actor kind. */
export type ActorKindName = ActorSpec['kind'];

/** The actor of one kind, e.g. for a helper that builds one: `(host: string): ActorSpecOf<'http-client'> => ({ ... })`. */
export type ActorSpecOf<K extends ActorKindName> = Extract<ActorSpec, { kind: K }>;

/** What a scenario's build() returns, its actors typed by kind. */
export type ScenarioSpec = UncheckedSpec<ActorSpec>;

/** A scenario file's default export. */
export type ScenarioDefinition<P extends Fields = Fields> = UncheckedDefinition<P, ActorSpec>;

/**
 * What an actor gives beyond its kind's options, each such key marked so that tsc names it. Needed because
 * TypeScript makes no excess-property check on the object an arrow function returns (build: (p) => ({...})),
 * where it does on a literal assigned to a typed variable; the message names the key and the kind.
 */
type UnknownOptions<A> = A extends { kind: infer K extends ActorKindName }
  ? {
      [O in Exclude<keyof A, keyof ActorSpecOf<K>> & string]: {
        readonly [M in `${O} is not an option of ${K}`]: never;
      };
    }
  : unknown;

/** S as build() returned it, each actor held to exactly its kind's keys. */
type ExactActors<S extends ScenarioSpec> = { actors: { [N in keyof S['actors']]: UnknownOptions<S['actors'][N]> } };

/** `export default defineScenario({ name, description, params, build })`: build's actors are checked against their kinds. */
export function defineScenario<P extends Fields, S extends ScenarioSpec>(
  definition: Omit<ScenarioDefinition<P>, 'build'> & { readonly build: (params: ValuesOf<P>) => S & ExactActors<S> },
): ScenarioDefinition<P> {
  return definition;
}
