// The JSON Schema of what a scenario's build() returns, made from the registered actor kinds' fields (each
// field carries its own schema, core/fields.ts) and the host, network and gateway specs, which the compiler
// holds to their TypeScript interfaces (core/scenario.ts): shipped as waitlab/schema/scenario.json.
import { actorKinds } from '../actors/registry.ts';
import type { Fields } from '../core/fields.ts';
import { JSON_SCHEMA_DIALECT, type JsonSchema } from '../core/json-schema.ts';
import type { GatewaySpec, HostLimitsSpec, HostSpec, NetworkSpec, ScenarioSpec } from '../core/scenario.ts';
import { DURATION_TEXT, IPV4, PORT_RANGE_TEXT } from '../core/units.ts';

/** Every key of T, each with its schema: a key added to T and not here (or here and not in T) fails to compile. */
type PropertiesOf<T> = { readonly [K in keyof Required<T>]: JsonSchema };

const duration: JsonSchema = {
  anyOf: [
    { type: 'number', minimum: 0 },
    { type: 'string', pattern: DURATION_TEXT.source },
  ],
};
const names: JsonSchema = { type: 'array', items: { type: 'string' } };

const gateway = {
  masquerade: { type: 'string' },
  ports: { type: 'string', pattern: PORT_RANGE_TEXT.source },
  randomFully: { type: 'boolean' },
} satisfies PropertiesOf<GatewaySpec>;
const limits = { nofile: { type: 'integer', minimum: 1 } } satisfies PropertiesOf<HostLimitsSpec>;
const host = {
  sysctls: { type: 'object', additionalProperties: { type: ['string', 'number'] } },
  address: { type: 'string', pattern: IPV4.source },
  limits: { type: 'object', properties: limits, additionalProperties: false },
  networks: names,
  via: { type: 'string' },
  gateway: { type: 'object', properties: gateway, additionalProperties: false },
  replicas: { type: 'integer', minimum: 1, maximum: 16 },
} satisfies PropertiesOf<HostSpec>;
const network = { subnet: { type: 'string' } } satisfies PropertiesOf<NetworkSpec>;

/** A field is required where it has no default and is not f.optional() (fields.ts lacksRequired's rule). */
function requiredOf(fields: Fields): string[] {
  return Object.entries(fields).flatMap(([key, def]) =>
    def.default === undefined && (def as { optional?: boolean }).optional !== true ? [key] : [],
  );
}

/** One registered kind's actor: its kind, its host, exactly its options. */
function actorSchema(kind: string, describe: string, fields: Fields): JsonSchema {
  return {
    type: 'object',
    description: describe,
    properties: {
      kind: { const: kind },
      host: { type: 'string' },
      ...Object.fromEntries(Object.entries(fields).map(([key, def]) => [key, def.schema])),
    },
    required: ['kind', 'host', ...requiredOf(fields)],
    additionalProperties: false,
  };
}

export function scenarioJsonSchema(): JsonSchema {
  const spec = {
    networks: {
      type: 'object',
      additionalProperties: { type: 'object', properties: network, additionalProperties: false },
    },
    hosts: { type: 'object', additionalProperties: { type: 'object', properties: host, additionalProperties: false } },
    family: { enum: ['ipv4', 'ipv6', 'dual'] },
    actors: {
      type: 'object',
      additionalProperties: { oneOf: [...actorKinds.values()].map((k) => actorSchema(k.kind, k.describe, k.options)) },
    },
    thresholds: { type: 'array', items: { type: 'string' } },
    regressions: { type: 'object', additionalProperties: { type: 'string' } },
    sampleInterval: duration,
    tail: duration,
  } satisfies PropertiesOf<ScenarioSpec>;
  return {
    $schema: JSON_SCHEMA_DIALECT,
    title: 'waitlab scenario: what build() returns',
    description:
      'Hosts, networks, actors (one of the registered kinds, with exactly its options), thresholds and regression tolerances. The loader checks more than this (addresses inside 198.18.0.0/15, sysctls the kernel has, targets that exist).',
    type: 'object',
    properties: spec,
    required: ['hosts', 'actors'],
    additionalProperties: false,
  };
}
