// The process actor's options, each parsed into its type at plan time: the argv (never a shell string), the
// environment, the readiness test and the user to run as.
import { InvalidValueError } from '../core/errors.ts';
import { f, type Field } from '../core/fields.ts';
import type { JsonSchema } from '../core/json-schema.ts';
import { isInheritedName } from '../core/own-keys.ts';
import { parseInteger } from '../core/units.ts';

/** How the process shows it is ready: a listening port in its host, or a line of its output. */
export type ReadyTest =
  | { readonly port: number }
  | { readonly log: { readonly text: string } }
  | { readonly log: { readonly regex: string; readonly flags: string } };

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

/** A field of the process actor's own: I is what a scenario writes, R whether it must (fields.ts). */
function field<T, I, R extends boolean>(
  type: string,
  describe: string,
  parse: (raw: unknown) => T,
  schema: JsonSchema,
  fallback?: T,
): Field<T, I, R> {
  return { type, describe, default: fallback, parse, schema: { ...schema, description: describe } };
}

/** plainText() as a pattern: no NUL, no line break. */
const PLAIN_TEXT = '^[^\\u0000\\r\\n]*$';

/** A NUL ends a C string early and a newline splits a log line or an environment dump: neither is taken. */
function plainText(value: string, what: string): string {
  if (value.includes('\0')) throw new InvalidValueError(`${what} holds a NUL byte`);
  if (/[\r\n]/.test(value)) throw new InvalidValueError(`${what} holds a line break`);
  return value;
}

export function parseCommand(raw: unknown): readonly string[] {
  if (typeof raw === 'string') {
    throw new InvalidValueError(
      `a shell string is not run (there is no shell, so quoting, pipes and $VARS would not mean what they say): give the argv as a list, e.g. ${JSON.stringify(raw.trim().split(/\s+/))}`,
    );
  }
  if (!Array.isArray(raw) || raw.length === 0)
    throw new InvalidValueError(`expected a non-empty list of strings (the argv), got ${JSON.stringify(raw)}`);
  return raw.map((arg, i) => {
    if (typeof arg !== 'string') throw new InvalidValueError(`argument ${i} is ${JSON.stringify(arg)}, not a string`);
    if (i === 0 && arg === '') throw new InvalidValueError('the executable (argument 0) is empty');
    return plainText(arg, `argument ${i}`);
  });
}

export function parseEnv(raw: unknown): Readonly<Record<string, string>> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new InvalidValueError(`expected an object of NAME: value, got ${JSON.stringify(raw)}`);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (!ENV_NAME.test(name) || isInheritedName(name))
      throw new InvalidValueError(
        `${JSON.stringify(name)} is not an environment variable name (letters, digits and _, not starting with a digit)`,
      );
    if (typeof value !== 'string' && typeof value !== 'number')
      throw new InvalidValueError(`${name}: expected a string or a number, got ${JSON.stringify(value)}`);
    out[name] = plainText(String(value), name);
  }
  return out;
}

export function parseReady(raw: unknown): ReadyTest {
  const given =
    typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : undefined;
  const keys = given ? Object.keys(given) : [];
  if (!given || keys.length !== 1 || !['port', 'log'].includes(keys[0]!)) {
    throw new InvalidValueError(
      `expected { port: 8080 } or { log: 'listening on' } (a substring, or /regex/flags), got ${JSON.stringify(raw)}`,
    );
  }
  if ('port' in given) return { port: parseInteger(given['port'], 1, 65535) };
  const log = given['log'];
  if (typeof log !== 'string' || log === '')
    throw new InvalidValueError(`log: expected a non-empty string, got ${JSON.stringify(log)}`);
  plainText(log, 'log');
  const regex = /^\/(.+)\/([dimsuy]*)$/s.exec(log);
  if (!regex) return { log: { text: log } };
  try {
    new RegExp(regex[1]!, regex[2]);
  } catch (err) {
    throw new InvalidValueError(`log: ${(err as Error).message}`);
  }
  return { log: { regex: regex[1]!, flags: regex[2]! } };
}

function parseUser(raw: unknown): string {
  if (typeof raw !== 'string' || !USER_NAME.test(raw))
    throw new InvalidValueError(`expected a user name such as "root" or "nobody", got ${JSON.stringify(raw)}`);
  return raw;
}

export const processOptions = {
  command: field<readonly string[], readonly string[], true>(
    'argv',
    "the command as a list, e.g. ['node', './api.js']: the executable (absolute, relative to cwd, or found in PATH) and its arguments; never a shell string",
    parseCommand,
    {
      type: 'array',
      minItems: 1,
      items: { type: 'string', pattern: PLAIN_TEXT },
      prefixItems: [{ type: 'string', minLength: 1 }],
    },
  ),
  cwd: f.optional(
    f.string({ describe: "working directory (default: the scenario file's directory; relative paths start there)" }),
  ),
  env: field<Readonly<Record<string, string>>, Readonly<Record<string, string | number>>, false>(
    'env',
    "environment over PATH and LANG and the lab's WAITLAB_HOST_<host> (its address) and WAITLAB_PORT_<actor> (a server's port)",
    parseEnv,
    {
      type: 'object',
      propertyNames: { pattern: ENV_NAME.source },
      additionalProperties: { anyOf: [{ type: 'string', pattern: PLAIN_TEXT }, { type: 'number' }] },
    },
    {},
  ),
  port: f.optional(
    f.int({
      min: 1,
      max: 65535,
      describe:
        'the TCP port it listens on: other actors target it there (`target: <this actor>`), and it is ready once the port listens unless `ready` says otherwise',
    }),
  ),
  ready: f.optional(
    field<ReadyTest, { readonly port: number } | { readonly log: string }, false>(
      'ready',
      "{ port: N }: ready once a socket listens on N in its host; { log: 'text' } or { log: '/regex/' }: once a line of its output matches",
      parseReady,
      {
        oneOf: [
          {
            type: 'object',
            properties: { port: { type: 'integer', minimum: 1, maximum: 65535 } },
            required: ['port'],
            additionalProperties: false,
          },
          {
            type: 'object',
            properties: { log: { type: 'string', minLength: 1 } },
            required: ['log'],
            additionalProperties: false,
          },
        ],
      },
    ),
  ),
  readyTimeout: f.duration({
    default: '10s',
    min: '100ms',
    max: '120s',
    describe: 'not ready by then: the run stops (exit 3) with the tail of its stderr',
  }),
  stopGrace: f.duration({
    default: '5s',
    min: '0ms',
    max: '60s',
    describe: 'after SIGTERM, how long it may take to exit before SIGKILL',
  }),
  user: f.optional(
    field<string, string, false>(
      'user',
      'the user it runs as (default: the invoking user under sudo, else nobody); "root" only when asked',
      parseUser,
      { type: 'string', pattern: USER_NAME.source },
    ),
  ),
  maxLogBytes: f.int({
    min: 1024,
    max: 1 << 30,
    default: 10 << 20,
    describe:
      'its stdout and stderr, kept in <actor>.log in the run directory, up to this many bytes; then one line says it was cut',
  }),
};
