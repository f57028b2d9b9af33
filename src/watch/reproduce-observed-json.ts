// The observed host as it crosses from the reader inside another namespace (nsenter) to the process that writes
// and runs the scenario: JSON on a pipe, checked field by field (whole numbers in range, octets, ports) before any
// of it is used, as any input from outside this process is.
import { UsageError } from '../core/errors.ts';
import { array, checkShape, literal, nullable, objectOf, string, type Shape } from '../core/shape.ts';
import type {
  CloseWaitHolder,
  ExhaustingDestination,
  Ipv4Endpoint,
  ObservedCloseWait,
  ObservedHost,
  ObservedListenOverflow,
  ObservedRates,
  ObservedSysctls,
} from './reproduce-observation.ts';
import type { PortRange } from '../core/units.ts';

function bounded(expected: string, ok: (v: number) => boolean): Shape<number> {
  return {
    expected,
    schema: { type: 'number' },
    problem: (v, path) =>
      typeof v === 'number' && Number.isFinite(v) && ok(v) ? undefined : `${path}: expected ${expected}`,
  };
}

const int = (min: number, max: number) =>
  bounded(`a whole number from ${min} to ${max}`, (v) => Number.isInteger(v) && v >= min && v <= max);
const count = () => int(0, 2 ** 31 - 1);
const perSecond = () => bounded('a rate from 0 to 10,000,000 per second', (v) => v >= 0 && v <= 10_000_000);
const signedPerSecond = () => bounded('a rate within +-10,000,000 per second', (v) => Math.abs(v) <= 10_000_000);
const ms = () => bounded('a duration from 0 to 24 h in ms', (v) => v >= 0 && v <= 86_400_000);
const port = () => int(1, 65535);

const OCTETS: Shape<readonly [number, number, number, number]> = {
  expected: 'four octets',
  schema: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 255 }, minItems: 4, maxItems: 4 },
  problem: (v, path) =>
    Array.isArray(v) && v.length === 4 && v.every((o) => Number.isInteger(o) && o >= 0 && o <= 255)
      ? undefined
      : `${path}: expected four octets 0-255`,
};

const ISO_TIME: Shape<string> = {
  expected: 'an ISO 8601 UTC time',
  schema: { type: 'string' },
  problem: (v, path) =>
    typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$/.test(v)
      ? undefined
      : `${path}: expected an ISO 8601 UTC time`,
};

const PORT_RANGE: Shape<PortRange> = {
  expected: 'a port range',
  schema: { type: 'object', properties: { lo: { type: 'integer' }, hi: { type: 'integer' } }, required: ['lo', 'hi'] },
  problem: (v, path) => {
    const r = v as PortRange;
    return typeof v === 'object' &&
      v !== null &&
      port().problem(r.lo, '') === undefined &&
      port().problem(r.hi, '') === undefined &&
      r.lo <= r.hi
      ? undefined
      : `${path}: expected {lo, hi} within 1-65535`;
  },
};

const ENDPOINT = objectOf<Ipv4Endpoint>()({ octets: OCTETS, port: port() });

const SYSCTLS = objectOf<ObservedSysctls>()({
  portRange: nullable(PORT_RANGE),
  twReuse: nullable(int(0, 2)),
  twReuseDelayMs: nullable(int(0, 1_000_000)),
  timestamps: nullable(int(0, 2)),
  finTimeoutSeconds: nullable(int(0, 1_000_000)),
  maxTwBuckets: nullable(count()),
  rfc1337: nullable(int(0, 1)),
  somaxconn: nullable(count()),
});

const DESTINATION = objectOf<ExhaustingDestination>()({
  endpoint: ENDPOINT,
  ports: int(0, 65535),
  timeWait: count(),
  established: count(),
  other: count(),
  portsPerSecond: nullable(signedPerSecond()),
  connectRate: bounded('a positive rate', (v) => v > 0 && v <= 10_000_000),
  rateFrom: literal('port-growth', 'time-wait-steady'),
  exhaustionMs: nullable(bounded('a duration in ms', (v) => v >= 0 && v <= Number.MAX_SAFE_INTEGER)),
});

const HOLDER = objectOf<CloseWaitHolder>()({ pid: int(1, 4_194_304), command: string(), closeWait: count() });

const CLOSE_WAIT = objectOf<ObservedCloseWait>()({
  count: count(),
  grew: count(),
  perSecond: perSecond(),
  outgoing: count(),
  holders: array(HOLDER),
});

const LISTEN = objectOf<ObservedListenOverflow>()({
  overflowsPerSecond: perSecond(),
  passiveOpensPerSecond: perSecond(),
});

const RATES = objectOf<ObservedRates>()({
  activeOpens: perSecond(),
  passiveOpens: perSecond(),
  timeWaitEntered: perSecond(),
  timeWaitOverflows: perSecond(),
});

const OBSERVED_HOST = objectOf<ObservedHost>()({
  host: string(),
  at: ISO_TIME,
  watchedMs: ms(),
  sysctls: SYSCTLS,
  portBudget: nullable(int(0, 65535)),
  rates: nullable(RATES),
  exhausting: array(DESTINATION),
  closeWait: nullable(CLOSE_WAIT),
  listenOverflow: nullable(LISTEN),
});

/** The most a reader's answer may weigh: a few destinations and holders, never megabytes. */
export const MAX_OBSERVED_BYTES = 1 << 20;

/** The reader's stdout, parsed and checked; a reader that printed anything else is refused. */
export function parseObservedHost(text: string, from: string): ObservedHost {
  if (text.length > MAX_OBSERVED_BYTES)
    throw new UsageError(`the reader inside ${from} answered more than ${MAX_OBSERVED_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`the reader inside ${from} did not answer with JSON`);
  }
  return checkShape(OBSERVED_HOST, value, (problem) => new UsageError(`the reader inside ${from} answered ${problem}`));
}
