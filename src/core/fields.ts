// Typed option fields: one declaration gives the default, the parser, the help text, the forms a scenario may
// write the value in (for the editor: ActorSpec, actors/actor-spec.ts) and its JSON Schema, so scenario
// parameters and actor options are validated, typed and described from one place.
import { closestName } from './closest-name.ts';
import { InvalidValueError } from './errors.ts';
import type { JsonSchema } from './json-schema.ts';
import { isInheritedName, ownValue } from './own-keys.ts';
import {
  DURATION_TEXT,
  formatDuration,
  IPV4,
  parseBoolean,
  parseDuration,
  parseInteger,
  parseIpv4,
  parsePortRange,
  parseRate,
  PORT_RANGE_TEXT,
  RATE_TEXT,
  type DurationInput,
  type Ipv4Input,
  type PortRange,
  type PortRangeInput,
  type RateInput,
} from './units.ts';

/**
 * T: the parsed value. I: what a scenario file may write. R: whether it must be written (no default, not
 * optional); boolean where a field does not say.
 */
export interface Field<T, I = unknown, R extends boolean = boolean> {
  readonly type: string;
  readonly describe: string;
  /** undefined: the field is required. */
  readonly default: T | undefined;
  /** Parses a value given in a scenario file or on the command line (always a string there). */
  parse(raw: unknown): T;
  /** The values a scenario may write, as JSON Schema (schema/scenario.json). */
  readonly schema: JsonSchema;
  /** Never set: carry I and R for the types of a scenario's actors (InputsOf). */
  readonly input?: I;
  readonly required?: R;
}

type FieldOptions<T> = { default?: T; describe?: string };
/** A field is required unless its options give a default. */
type NoDefault<O> = O extends { default: unknown } ? false : true;

function field<T, I, R extends boolean>(
  type: string,
  parse: (raw: unknown) => T,
  opts: FieldOptions<T>,
  schema: JsonSchema,
): Field<T, I, R> {
  const describe = opts.describe ?? '';
  return {
    type,
    parse,
    default: opts.default,
    describe,
    schema: {
      ...schema,
      ...(describe ? { description: describe } : {}),
      ...(opts.default === undefined ? {} : { default: opts.default }),
    },
  };
}

type DurationOptions = FieldOptions<DurationInput> & { min?: DurationInput; max?: DurationInput };
type RateOptions = FieldOptions<RateInput> & { max?: number };
type IntOptions = FieldOptions<number> & { min?: number; max?: number };

const bounded = (min: number | undefined, max: number | undefined): JsonSchema => ({
  ...(min === undefined ? {} : { minimum: min }),
  ...(max === undefined ? {} : { maximum: max }),
});

export const f = {
  /** Milliseconds; accepts "8s", "500ms", "1m". `min` and `max` as durations too. */
  duration: <O extends DurationOptions = Record<never, never>>(opts: O = {} as O) => {
    const min = opts.min === undefined ? undefined : parseDuration(opts.min);
    const max = opts.max === undefined ? undefined : parseDuration(opts.max);
    const parse = (raw: unknown) => within(parseDuration(raw), min, max, raw, formatDuration);
    const schema = {
      anyOf: [
        { type: 'number', ...bounded(min ?? 0, max) },
        { type: 'string', pattern: DURATION_TEXT.source },
      ],
    };
    return field<number, DurationInput, NoDefault<O>>(
      `duration${bounds(min, max, formatDuration)}`,
      parse,
      { ...opts, default: opts.default === undefined ? undefined : parseDuration(opts.default) },
      schema,
    );
  },
  /** Per second; accepts "300/s", "600/m". `max` per second. */
  rate: <O extends RateOptions = Record<never, never>>(opts: O = {} as O) => {
    const parse = (raw: unknown) => within(parseRate(raw), undefined, opts.max, raw, (v) => `${v}/s`);
    const schema = {
      anyOf: [
        { type: 'number', exclusiveMinimum: 0, ...bounded(undefined, opts.max) },
        { type: 'string', pattern: RATE_TEXT.source },
      ],
    };
    return field<number, RateInput, NoDefault<O>>(
      `rate${bounds(undefined, opts.max, (v) => `${v}/s`)}`,
      parse,
      { ...opts, default: opts.default === undefined ? undefined : parseRate(opts.default) },
      schema,
    );
  },
  int: <O extends IntOptions = Record<never, never>>(opts: O = {} as O) =>
    field<number, number, NoDefault<O>>(
      `int${opts.min !== undefined || opts.max !== undefined ? `(${opts.min ?? ''}..${opts.max ?? ''})` : ''}`,
      (raw) => parseInteger(raw, opts.min, opts.max),
      opts,
      { type: 'integer', ...bounded(opts.min, opts.max) },
    ),
  bool: <O extends FieldOptions<boolean> = Record<never, never>>(opts: O = {} as O) =>
    field<boolean, boolean, NoDefault<O>>('bool', parseBoolean, opts, { type: 'boolean' }),
  string: <O extends FieldOptions<string> = Record<never, never>>(opts: O = {} as O) =>
    field<string, string, NoDefault<O>>(
      'string',
      (raw) => {
        if (typeof raw !== 'string' || raw === '')
          throw new InvalidValueError(`expected a non-empty string, got ${JSON.stringify(raw)}`);
        return raw;
      },
      opts,
      { type: 'string', minLength: 1 },
    ),
  oneOf: <const V extends string, O extends FieldOptions<V> = Record<never, never>>(
    values: readonly V[],
    opts: O = {} as O,
  ) =>
    field<V, V, NoDefault<O>>(
      values.join('|'),
      (raw) => {
        if (typeof raw !== 'string' || !(values as readonly string[]).includes(raw)) {
          throw new InvalidValueError(`expected one of ${values.join(', ')}, got ${JSON.stringify(raw)}`);
        }
        return raw as V;
      },
      opts,
      { enum: values },
    ),
  /** A dotted-quad IPv4 address. */
  ipv4: <O extends FieldOptions<Ipv4Input> = Record<never, never>>(opts: O = {} as O) =>
    field<Ipv4Input, Ipv4Input, NoDefault<O>>('IPv4 address', (raw) => parseIpv4(raw) as Ipv4Input, opts, {
      type: 'string',
      pattern: IPV4.source,
    }),
  portRange: <O extends FieldOptions<PortRangeInput> = Record<never, never>>(opts: O = {} as O) => {
    const schema = {
      anyOf: [
        { type: 'string', pattern: PORT_RANGE_TEXT.source },
        { type: 'object', properties: { lo: { type: 'integer' }, hi: { type: 'integer' } }, required: ['lo', 'hi'] },
      ],
    };
    return field<PortRange, PortRangeInput, NoDefault<O>>(
      'port range',
      parsePortRange,
      { ...opts, default: opts.default === undefined ? undefined : parsePortRange(opts.default) },
      schema,
    );
  },
  /** A field that may be left out; absent stays undefined. */
  optional: <T, I>(inner: Field<T, I>): Field<T | undefined, I, false> =>
    ({ ...inner, type: `${inner.type}?`, default: undefined, parse: inner.parse, optional: true }) as Field<
      T | undefined,
      I,
      false
    >,
};

function within(
  value: number,
  min: number | undefined,
  max: number | undefined,
  raw: unknown,
  show: (v: number) => string,
): number {
  const given = typeof raw === 'string' ? JSON.stringify(raw) : show(value);
  if (min !== undefined && value < min)
    throw new InvalidValueError(`${given} is below the least allowed, ${show(min)}`);
  if (max !== undefined && value > max) throw new InvalidValueError(`${given} is above the most allowed, ${show(max)}`);
  return value;
}

function bounds(min: number | undefined, max: number | undefined, show: (v: number) => string): string {
  return min === undefined && max === undefined
    ? ''
    : `(${min === undefined ? '' : show(min)}..${max === undefined ? '' : show(max)})`;
}

export type Fields = Record<string, Field<unknown>>;
/** What a scenario file may write for a field. */
export type InputOf<F> = F extends Field<unknown, infer I> ? I : never;
export type ValuesOf<F extends Fields> = { readonly [K in keyof F]: F[K] extends Field<infer T> ? T : never };

function isOptional(fieldDef: Field<unknown>): boolean {
  return (fieldDef as { optional?: boolean }).optional === true;
}

/** Whether a field that has no default and is not optional was not given at all. */
export function lacksRequired(fields: Fields, raw: Record<string, unknown>): boolean {
  return Object.entries(fields).some(
    ([key, def]) => ownValue(raw, key) === undefined && def.default === undefined && !isOptional(def),
  );
}

/**
 * Resolves raw values against fields: defaults applied, every value parsed, unknown keys reported.
 * Problems are pushed (prefixed with `where`) rather than thrown, so a caller can report them all.
 */
export function resolveFields<F extends Fields>(
  fields: F,
  raw: Record<string, unknown>,
  where: string,
  problems: string[],
): ValuesOf<F> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(raw)) {
    if (!Object.hasOwn(fields, key) || isInheritedName(key)) {
      const near = closestName(key, Object.keys(fields));
      problems.push(
        `${where}: unknown key "${key}"${near ? ` (did you mean ${near}?)` : ''} (known: ${Object.keys(fields).join(', ') || 'none'})`,
      );
    }
  }
  for (const [key, def] of Object.entries(fields)) {
    const given = ownValue(raw, key);
    if (given === undefined) {
      if (def.default === undefined && !isOptional(def)) problems.push(`${where}.${key}: required (${def.type})`);
      out[key] = def.default;
      continue;
    }
    try {
      out[key] = def.parse(given);
    } catch (err) {
      problems.push(`${where}.${key}: ${(err as Error).message}`);
    }
  }
  return out as ValuesOf<F>;
}
