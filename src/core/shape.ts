// The shape of a file we read (report.json, baseline.json, a profile, a log line): checked before any code uses
// it, so that a wrong type becomes one message naming the field ("hosts.client.peak: expected an object, got
// null") instead of a TypeError deep in a renderer. Written once, in code: `objectOf<T>()` makes the compiler
// check a shape against the TypeScript type it stands for, so the two cannot drift apart.
import type { JsonSchema } from './json-schema.ts';
import { isInheritedName } from './own-keys.ts';

export interface Shape<T> {
  /** What a value must be, in words ("an object", "a number or null"). */
  readonly expected: string;
  /** The first problem of `value` at `path` ("hosts.client.peak: expected an object, got null"), or undefined. */
  problem(value: unknown, path: string): string | undefined;
  /** The same rules as JSON Schema, for the schemas the package ships (schema/report.json). */
  readonly schema: JsonSchema;
  /** Never set: carries T for Infer. */
  readonly type?: T;
}

/** A field that may be absent (never undefined in JSON). */
export interface OptionalShape<T> extends Shape<T> {
  readonly optional: true;
}

export type Infer<S> = S extends Shape<infer T> ? T : never;

/** How deep any JSON a command reads may nest: far beyond any file of ours (a report nests 8 deep). */
export const MAX_JSON_DEPTH = 64;

/** What a value is, in words, for a problem's "got ...": never the value itself (a file's content stays out of errors). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return Number.isFinite(value) ? 'a number' : String(value);
  return `a ${typeof value}`;
}

function at(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  const name = /^[\w-]+$/.test(key) ? key : JSON.stringify(key);
  return path ? `${path}.${name}` : name;
}

function where(path: string): string {
  return path ? `${path}: ` : '';
}

function leaf<T>(expected: string, schema: JsonSchema, ok: (v: unknown) => boolean): Shape<T> {
  return {
    expected,
    schema,
    problem: (v, path) => (ok(v) ? undefined : `${where(path)}expected ${expected}, got ${describeValue(v)}`),
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const string = (): Shape<string> => leaf('a string', { type: 'string' }, (v) => typeof v === 'string');
export const number = (): Shape<number> =>
  leaf('a number', { type: 'number' }, (v) => typeof v === 'number' && Number.isFinite(v));
export const boolean = (): Shape<boolean> => leaf('a boolean', { type: 'boolean' }, (v) => typeof v === 'boolean');

export function literal<const V extends readonly (string | number | boolean)[]>(...values: V): Shape<V[number]> {
  return leaf(
    values.length === 1 ? JSON.stringify(values[0]) : `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`,
    values.length === 1 ? { const: values[0] } : { enum: values },
    (v) => values.includes(v as V[number]),
  );
}

/** Any JSON value no deeper than MAX_JSON_DEPTH (walked without recursion: a 200,000-deep array must not overflow the stack). */
export function json(): Shape<unknown> {
  return {
    expected: 'JSON',
    schema: {},
    problem(value, path) {
      const pending: [unknown, number][] = [[value, 0]];
      while (pending.length) {
        const [v, depth] = pending.pop()!;
        if (typeof v !== 'object' || v === null) continue;
        if (depth >= MAX_JSON_DEPTH) return `${where(path)}nests deeper than ${MAX_JSON_DEPTH} levels`;
        for (const x of Object.values(v)) pending.push([x, depth + 1]);
      }
      return undefined;
    },
  };
}

export function nullable<T>(shape: Shape<T>): Shape<T | null> {
  return {
    expected: `${shape.expected} or null`,
    schema: { anyOf: [shape.schema, { type: 'null' }] },
    problem: (v, path) =>
      v === null
        ? undefined
        : shape.problem(v, path) && `${where(path)}expected ${shape.expected} or null, got ${describeValue(v)}`,
  };
}

export function optional<T>(shape: Shape<T>): OptionalShape<T> {
  return { ...shape, optional: true };
}

export function oneOf<A, B>(a: Shape<A>, b: Shape<B>): Shape<A | B> {
  const expected = `${a.expected} or ${b.expected}`;
  return {
    expected,
    schema: { anyOf: [a.schema, b.schema] },
    problem: (v, path) =>
      a.problem(v, path) === undefined || b.problem(v, path) === undefined
        ? undefined
        : `${where(path)}expected ${expected}, got ${describeValue(v)}`,
  };
}

export function array<T>(item: Shape<T>): Shape<readonly T[]> {
  return {
    expected: 'an array',
    schema: { type: 'array', items: item.schema },
    problem(v, path) {
      if (!Array.isArray(v)) return `${where(path)}expected an array, got ${describeValue(v)}`;
      for (let i = 0; i < v.length; i++) {
        const p = item.problem(v[i], at(path, i));
        if (p) return p;
      }
      return undefined;
    },
  };
}

/** An object used as a map (hosts by name, counters by name): a name every object inherits is refused (own-keys.ts). */
export function record<T>(value: Shape<T>): Shape<Record<string, T>> {
  return {
    expected: 'an object',
    schema: { type: 'object', additionalProperties: value.schema },
    problem(v, path) {
      if (!isPlainObject(v)) return `${where(path)}expected an object, got ${describeValue(v)}`;
      for (const [key, x] of Object.entries(v)) {
        if (isInheritedName(key))
          return `${where(path)}"${key}" is a name every object inherits, not one this file can hold`;
        const p = value.problem(x, at(path, key));
        if (p) return p;
      }
      return undefined;
    },
  };
}

type Fields = Readonly<Record<string, Shape<unknown>>>;
type OptionalKeys<F extends Fields> = { [K in keyof F]: F[K] extends OptionalShape<unknown> ? K : never }[keyof F];
type ObjectOf<F extends Fields> = { [K in Exclude<keyof F, OptionalKeys<F>>]: Infer<F[K]> } & {
  [K in OptionalKeys<F>]?: Infer<F[K]>;
};

/** An object with these fields (others are let through: older and newer files carry fields this one does not read). */
export function object<F extends Fields>(fields: F): Shape<ObjectOf<F>> {
  const properties = Object.fromEntries(Object.entries(fields).map(([key, shape]) => [key, shape.schema]));
  const required = Object.entries(fields).flatMap(([key, shape]) =>
    (shape as Partial<OptionalShape<unknown>>).optional ? [] : [key],
  );
  return {
    expected: 'an object',
    schema: { type: 'object', properties, required },
    problem(v, path) {
      if (!isPlainObject(v)) return `${where(path)}expected an object, got ${describeValue(v)}`;
      for (const [key, shape] of Object.entries(fields)) {
        if (!Object.hasOwn(v, key)) {
          if ((shape as Partial<OptionalShape<unknown>>).optional) continue;
          return `${where(at(path, key))}missing (expected ${shape.expected})`;
        }
        const p = shape.problem(v[key], at(path, key));
        if (p) return p;
      }
      return undefined;
    },
  };
}

/** A shape for T that the compiler holds to T: exactly T's keys, optional where T's are, and every value of T accepted. */
export function objectOf<T>() {
  return <F extends { readonly [K in keyof T]-?: Shape<unknown> }>(
    fields: F &
      Record<Exclude<keyof F, keyof T>, never> &
      ([T] extends [ObjectOf<F>] ? unknown : { 'the shape refuses values of its type': never }),
  ): Shape<T> => object(fields) as Shape<T>;
}

/** The value as T, or the first problem thrown as `fail` makes it (the file's name goes in front). */
export function checkShape<T>(shape: Shape<T>, value: unknown, fail: (problem: string) => Error): T {
  const p = shape.problem(value, '');
  if (p !== undefined) throw fail(p);
  return value as T;
}
