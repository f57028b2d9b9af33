// The words of findings, predictions and doctor: how numbers are printed and the phrasings several rules share.
// Rules write their sentences from their claims (claims/claim.ts) through these, so that a number is printed one
// way everywhere, and a sentence never states a number its claims do not hold.
import { formatDuration } from '../../core/units.ts';
import type { Claim } from '../claims/claim.ts';
import type { SideClaims } from '../claims/closer-claims.ts';
import { numberText } from '../../core/number-text.ts';

export const n = (v: number) => numberText(v);
/** A share in percent, one decimal; a part above its whole is printed as the whole (a census that counted a socket twice). */
export const pct = (part: number, whole: number) => `${Math.round((Math.min(part, whole) / whole) * 1000) / 10}%`;
/** A share (0..1) in percent, as pct() prints it. */
export const share = (value: number) => pct(value, 1);
/** part / whole as "2.5 x" from one whole up, else as a percentage with two significant digits (never "0 x"). */
export const times = (part: number, whole: number) => {
  const r = part / whole;
  if (r >= 1) return `${Math.round(r * 100) / 100} x`;
  if (r === 0) return '0%';
  return `${Number((r * 100).toPrecision(2))}% of`;
};
/** A duration: 341 ms, 3.34 s, 12.3 s. */
export const duration = (ms: number) => formatDuration(ms);
/** A count that may be a fraction, rounded for reading: 0.715, 12.5, 1,000. */
export const decimal = (v: number, digits = 3) => n(Number(v.toFixed(digits)));
/** A counter's increase as the kernel's tables name it: "TcpExt.TW +1,000". */
export const counterWords = (c: Claim) => `${c.of} ${c.value >= 0 ? '+' : ''}${n(c.value)}`;
/** The first claim of `name` (and `of`) among `claims`, where a rule made it. */
export const find = (claims: readonly Claim[], name: Claim['name'], of?: string) =>
  claims.find((c) => c.name === name && (of === undefined || c.of === of));
/** "host a", "hosts a, b and c". */
export const hostsWords = (hosts: readonly string[]) =>
  hosts.length === 1 ? `host ${hosts[0]}` : `hosts ${hosts.slice(0, -1).join(', ')} and ${hosts.at(-1)}`;
/** "a", "a and b", "a, b and c". */
export const listWords = (items: readonly string[]) =>
  items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
export const capitalised = (s: string) => `${s[0]!.toUpperCase()}${s.slice(1)}`;

const ERRNO_TEXT: Record<string, string> = {
  EADDRNOTAVAIL: 'Cannot assign requested address',
  EADDRINUSE: 'Address already in use',
  ECONNRESET: 'Connection reset by peer',
  ECONNREFUSED: 'Connection refused',
  EPIPE: 'Broken pipe',
  EMFILE: 'Too many open files',
  ENFILE: 'Too many open files in system',
  ETIMEDOUT: 'Connection timed out',
};

/** 'EADDRINUSE ("Address already in use")', or the code alone where it has no well-known text. */
export const errnoWords = (code: string) => `${code}${ERRNO_TEXT[code] ? ` ("${ERRNO_TEXT[code]}")` : ''}`;

/** "bind() 3, connect() 2" from syscallErrors claims (of: "CODE call"). */
export const syscallWords = (claims: readonly Claim[], code: string) => {
  const calls = claims
    .filter((c) => c.name === 'syscallErrors' && c.of?.startsWith(`${code} `))
    .map((c) => ({ call: c.of!.slice(code.length + 1), count: c.value }));
  // An error the actor raised itself (a timeout, an HTTP status) is tallied under the syscall "none".
  if (calls.length && calls.every((c) => c.call === 'none')) return 'no system call failed';
  return calls
    .map((c) => (c.call === 'none' ? `without a system call ${n(c.count)}` : `${c.call}() ${n(c.count)}`))
    .join(', ');
};
/** "bind(), connect()": the syscalls that failed with a code. */
export const syscallNames = (claims: readonly Claim[], code: string) =>
  claims
    .filter((c) => c.name === 'syscallErrors' && c.of?.startsWith(`${code} `))
    .map((c) => `${c.of!.slice(code.length + 1)}()`)
    .join(', ');

/**
 * Upstream (or new) connections per request, in words that follow the number: near one, each request had its own
 * connection; well below one, a pool carried several requests on each; in between, the pool kept few alive.
 */
export function perRequestWords(perRequest: number): string {
  const each = `${decimal(perRequest)} per request`;
  if (perRequest >= 0.9) return `${each}: about one connection for every request`;
  if (perRequest > 0.1) return `${each}: the pool kept few connections alive, most requests opened one of their own`;
  if (perRequest === 0) return `${each}: no new connection at all`;
  return `${each}: each connection carried about ${n(Math.round(1 / perRequest))} requests`;
}

/** "host proxy 1,000 (TcpExt.TW +1,000)", or where the counters are not the group's, the census bound beside them. */
export function sideWords(side: SideClaims): string {
  const counters = side.counters
    .map((cs, i) => (side.hosts.length > 1 ? `${side.hosts[i]}: ` : '') + cs.map(counterWords).join(', '))
    .join('; ');
  const count = side.firstCloses;
  if (side.basis === 'counters')
    return `${hostsWords(side.hosts)} ${count ? n(count.value) : ''} (${counters})`.replace('  (', ' (');
  return count
    ? `${hostsWords(side.hosts)} at least ${n(count.value)} (the TIME_WAIT peak with the other end in the census; the counters, ${counters}, also count other connections)`
    : `${hostsWords(side.hosts)} (their counters, ${counters}, also count other connections)`;
}

/** "first closes counted by each kernel: host a N (...), host b M (...)", the `first` end first. */
export function closesWords(
  sides: { client: SideClaims; server: SideClaims },
  first: 'client' | 'server' = 'client',
): string {
  const [a, b] = first === 'client' ? [sides.client, sides.server] : [sides.server, sides.client];
  return `first closes counted by each kernel: ${sideWords(a)}, ${sideWords(b)}`;
}

/** "TcpExt.TW +30" with TWKilled and TCPTimeWaitOverflow where they moved: the counters of a host's first closes. */
export function firstCloseCounterWords(delta: Readonly<Record<string, number>>): string {
  const parts = [`TcpExt.TW +${n(delta['TcpExt.TW'] ?? 0)}`];
  if (delta['TcpExt.TWKilled']) parts.push(`TcpExt.TWKilled +${n(delta['TcpExt.TWKilled'])}`);
  if (delta['TcpExt.TCPTimeWaitOverflow'])
    parts.push(`TcpExt.TCPTimeWaitOverflow +${n(delta['TcpExt.TCPTimeWaitOverflow'])}`);
  return parts.join(', ');
}
