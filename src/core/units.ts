// Parsers for the units a scenario may use. Each throws a plain message; callers add the path.
import { InvalidValueError } from './errors.ts';

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration as text; its source is also the JSON Schema's pattern (core/field-schema.ts), so the two cannot differ. */
export const DURATION_TEXT = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/;
/** What a scenario may write for a duration: milliseconds, or text such as '8s' or '500ms'. */
export type DurationInput = number | `${number}${'ms' | 's' | 'm' | 'h'}`;

/** '500ms', '8s', '1.5m' or a number of milliseconds -> milliseconds. */
export function parseDuration(raw: unknown): number {
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw) || raw < 0)
      throw new InvalidValueError(`a duration must be a non-negative number of ms, got ${raw}`);
    return capDuration(raw, raw);
  }
  if (typeof raw !== 'string')
    throw new InvalidValueError(`a duration must be a string like "8s" or "500ms", got ${typeof raw}`);
  const m = DURATION_TEXT.exec(raw);
  if (!m)
    throw new InvalidValueError(`"${raw}" is not a duration: use a number with ms, s, m or h (e.g. "8s", "500ms")`);
  return capDuration(Math.round(Number(m[1]) * DURATION_UNITS[m[2]!]!), raw);
}

/** Longer than any lab run; and Node's timers overflow past 2^31 - 1 ms (they would fire after 1 ms). */
export const MAX_DURATION_MS = 24 * 3_600_000;

function capDuration(ms: number, raw: unknown): number {
  if (ms > MAX_DURATION_MS) throw new InvalidValueError(`${JSON.stringify(raw)} is longer than a lab allows (24h)`);
  return ms;
}

export const RATE_TEXT = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|m))?\s*$/;
/** What a scenario may write for a rate: a number per second, or text such as '300/s' or '600/m'. */
export type RateInput = number | `${number}` | `${number}/${'s' | 'm'}`;

/** '300/s', '18000/m' or a number per second -> per second. */
export function parseRate(raw: unknown): number {
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw) || raw <= 0)
      throw new InvalidValueError(`a rate must be a positive number per second, got ${raw}`);
    return raw;
  }
  if (typeof raw !== 'string') throw new InvalidValueError(`a rate must be a string like "300/s", got ${typeof raw}`);
  const m = RATE_TEXT.exec(raw);
  if (!m)
    throw new InvalidValueError(
      `"${raw}" is not a rate: use a number per second or per minute (e.g. "300/s", "600/m")`,
    );
  const value = Number(m[1]) / (m[2] === 'm' ? 60 : 1);
  if (value <= 0) throw new InvalidValueError(`a rate must be positive, got "${raw}"`);
  return value;
}

export interface PortRange {
  readonly lo: number;
  readonly hi: number;
}

export const PORT_RANGE_TEXT = /^\s*(\d+)\s*(?:-|\s)\s*(\d+)\s*$/;
/** What a scenario may write for a port range: '40000-40999', the sysctl's '40000 40999', or { lo, hi }. */
export type PortRangeInput = `${number}-${number}` | `${number} ${number}` | PortRange;

/** '40000-40999' or '40000 40999' (the sysctl's own form) -> {lo, hi}. */
export function parsePortRange(raw: unknown): PortRange {
  if (typeof raw === 'object' && raw !== null && 'lo' in raw && 'hi' in raw) {
    return checkRange(Number((raw as PortRange).lo), Number((raw as PortRange).hi), JSON.stringify(raw));
  }
  if (typeof raw !== 'string') throw new InvalidValueError(`a port range must be a string like "40000-40999"`);
  const m = PORT_RANGE_TEXT.exec(raw);
  if (!m) throw new InvalidValueError(`"${raw}" is not a port range: use "LO-HI" (e.g. "40000-40999")`);
  return checkRange(Number(m[1]), Number(m[2]), raw);
}

function checkRange(lo: number, hi: number, raw: string): PortRange {
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi > 65535 || lo > hi) {
    throw new InvalidValueError(`"${raw}" is not a port range within 1-65535 with LO <= HI`);
  }
  return { lo, hi };
}

export function parseInteger(raw: unknown, min = -Infinity, max = Infinity): number {
  const value = typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw new InvalidValueError(`expected an integer, got ${JSON.stringify(raw)}`);
  if (value < min || value > max) throw new InvalidValueError(`${value} is outside ${min}..${max}`);
  return value;
}

export function parseBoolean(raw: unknown): boolean {
  if (typeof raw === 'boolean') return raw;
  if (raw === 'true' || raw === 'on' || raw === '1' || raw === 'yes') return true;
  if (raw === 'false' || raw === 'off' || raw === '0' || raw === 'no') return false;
  throw new InvalidValueError(`expected true or false, got ${JSON.stringify(raw)}`);
}

export function formatDuration(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms >= 10_000 ? 1 : 2)} s` : `${Math.round(ms)} ms`;
}

export const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** What a scenario may write for an IPv4 address. */
export type Ipv4Input = `${number}.${number}.${number}.${number}`;

/** A dotted-quad IPv4 address and nothing else: values that reach a generated nginx or HAProxy configuration. */
export function parseIpv4(raw: unknown): string {
  if (typeof raw !== 'string' || !IPV4.test(raw))
    throw new InvalidValueError(`${JSON.stringify(raw)} is not an IPv4 address (four numbers 0-255, e.g. 198.18.0.1)`);
  return raw;
}

export function isIpv4(raw: unknown): raw is string {
  return typeof raw === 'string' && IPV4.test(raw);
}
