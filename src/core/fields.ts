// Typed option fields: one declaration gives the default, the parser and the help text, so scenario
// parameters and actor options are validated the same way and their defaults live in one place.
import { InvalidValueError } from './errors.ts';
import { isInheritedName, ownValue } from './own-keys.ts';
import { formatDuration, parseBoolean, parseDuration, parseInteger, parseIpv4, parsePortRange, parseRate, type PortRange } from './units.ts';

export interface Field<T> {
  readonly type: string;
  readonly describe: string;
  /** undefined: the field is required. */
  readonly default: T | undefined;
  /** Parses a value given in a scenario file or on the command line (always a string there). */
  parse(raw: unknown): T;
}

type FieldOptions<T> = { default?: T; describe?: string };

function field<T>(type: string, parse: (raw: unknown) => T, opts: FieldOptions<T>): Field<T> {
  return { type, parse, default: opts.default, describe: opts.describe ?? '' };
}

export const f = {
  /** Milliseconds; accepts "8s", "500ms", "1m". `min` and `max` as durations too. */
  duration: (opts: FieldOptions<number | string> & { min?: number | string; max?: number | string } = {}) => {
    const min = opts.min === undefined ? undefined : parseDuration(opts.min);
    const max = opts.max === undefined ? undefined : parseDuration(opts.max);
    const parse = (raw: unknown) => within(parseDuration(raw), min, max, raw, formatDuration);
    return field<number>(`duration${bounds(min, max, formatDuration)}`, parse, { ...opts, default: opts.default === undefined ? undefined : parseDuration(opts.default) });
  },
  /** Per second; accepts "300/s", "600/m". `max` per second. */
  rate: (opts: FieldOptions<number | string> & { max?: number } = {}) => {
    const parse = (raw: unknown) => within(parseRate(raw), undefined, opts.max, raw, (v) => `${v}/s`);
    return field<number>(`rate${bounds(undefined, opts.max, (v) => `${v}/s`)}`, parse, { ...opts, default: opts.default === undefined ? undefined : parseRate(opts.default) });
  },
  int: (opts: FieldOptions<number> & { min?: number; max?: number } = {}) =>
    field<number>(`int${opts.min !== undefined || opts.max !== undefined ? `(${opts.min ?? ''}..${opts.max ?? ''})` : ''}`,
      (raw) => parseInteger(raw, opts.min, opts.max), opts),
  bool: (opts: FieldOptions<boolean> = {}) => field<boolean>('bool', parseBoolean, opts),
  string: (opts: FieldOptions<string> = {}) =>
    field<string>('string', (raw) => {
      if (typeof raw !== 'string' || raw === '') throw new InvalidValueError(`expected a non-empty string, got ${JSON.stringify(raw)}`);
      return raw;
    }, opts),
  oneOf: <const V extends string>(values: readonly V[], opts: FieldOptions<V> = {}) =>
    field<V>(values.join('|'), (raw) => {
      if (typeof raw !== 'string' || !(values as readonly string[]).includes(raw)) {
        throw new InvalidValueError(`expected one of ${values.join(', ')}, got ${JSON.stringify(raw)}`);
      }
      return raw as V;
    }, opts),
  /** A dotted-quad IPv4 address. */
  ipv4: (opts: FieldOptions<string> = {}) => field<string>('IPv4 address', parseIpv4, opts),
  portRange: (opts: FieldOptions<string | PortRange> = {}) =>
    field<PortRange>('port range', parsePortRange, { ...opts, default: opts.default === undefined ? undefined : parsePortRange(opts.default) }),
  /** A field that may be left out; absent stays undefined. */
  optional: <T>(inner: Field<T>): Field<T | undefined> => ({ ...inner, type: `${inner.type}?`, default: undefined, parse: inner.parse, optional: true } as Field<T | undefined>),
};

function within(value: number, min: number | undefined, max: number | undefined, raw: unknown, show: (v: number) => string): number {
  const given = typeof raw === 'string' ? JSON.stringify(raw) : show(value);
  if (min !== undefined && value < min) throw new InvalidValueError(`${given} is below the least allowed, ${show(min)}`);
  if (max !== undefined && value > max) throw new InvalidValueError(`${given} is above the most allowed, ${show(max)}`);
  return value;
}

function bounds(min: number | undefined, max: number | undefined, show: (v: number) => string): string {
  return min === undefined && max === undefined ? '' : `(${min === undefined ? '' : show(min)}..${max === undefined ? '' : show(max)})`;
}

export type Fields = Record<string, Field<unknown>>;
export type ValuesOf<F extends Fields> = { readonly [K in keyof F]: F[K] extends Field<infer T> ? T : never };

function isOptional(fieldDef: Field<unknown>): boolean {
  return (fieldDef as { optional?: boolean }).optional === true;
}

/** Whether a field that has no default and is not optional was not given at all. */
export function lacksRequired(fields: Fields, raw: Record<string, unknown>): boolean {
  return Object.entries(fields).some(([key, def]) => ownValue(raw, key) === undefined && def.default === undefined && !isOptional(def));
}

/**
 * Resolves raw values against fields: defaults applied, every value parsed, unknown keys reported.
 * Problems are pushed (prefixed with `where`) rather than thrown, so a caller can report them all.
 */
export function resolveFields<F extends Fields>(fields: F, raw: Record<string, unknown>, where: string, problems: string[]): ValuesOf<F> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(raw)) {
    if (!Object.hasOwn(fields, key) || isInheritedName(key)) {
      problems.push(`${where}: unknown key "${key}" (known: ${Object.keys(fields).join(', ') || 'none'})`);
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
