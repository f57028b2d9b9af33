// /proc/net/netstat (TcpExt) and /proc/net/snmp (Tcp): pairs of lines, names then values, per network namespace.
import { CONNTRACK_GAUGES, CONNTRACK_KEY_COUNTERS, CONNTRACK_PREFIX } from './conntrack-stats.ts';

export type Counters = Record<string, number>;

/** Parses "Prefix: name name ...\nPrefix: 1 2 ..." pairs, keeping only the wanted prefixes, keyed "Prefix.name". */
/**
 * Each header line's column keys ("TcpExt.TW", ...), undefined for a column not asked for, by the prefixes asked for
 * and the header: a kernel's header lines never change, and an agent sampling 100 hosts at 10 Hz made 300,000 key
 * strings a second from them. A cache per `only` set (weakly held) and one for all keys.
 */
const allKeys = new Map<string, readonly (string | undefined)[]>();
const onlyKeys = new WeakMap<ReadonlySet<string>, Map<string, readonly (string | undefined)[]>>();

function keysOf(
  header: string,
  prefixes: readonly string[],
  only?: ReadonlySet<string>,
): readonly (string | undefined)[] {
  let cache = allKeys;
  if (only) {
    const known = onlyKeys.get(only);
    if (known) cache = known;
    else onlyKeys.set(only, (cache = new Map()));
  }
  const id = `${prefixes.join(',')}|${header}`;
  const cached = cache.get(id);
  if (cached) return cached;
  const names = header.split(/\s+/);
  const prefix = names[0]?.replace(/:$/, '');
  const keys = names.map((name, k) => {
    if (k === 0 || !name || !prefix || !prefixes.includes(prefix)) return undefined;
    const key = `${prefix}.${name}`;
    return only && !only.has(key) ? undefined : key;
  });
  cache.set(id, keys);
  return keys;
}

/**
 * The counters of /proc/net/snmp or netstat (per prefix a header line of names, then a line of values) whose prefix is
 * one of `prefixes`; with `only`, just those keys.
 */
export function parseCounterPairs(text: string, prefixes: readonly string[], only?: ReadonlySet<string>): Counters {
  const out: Counters = {};
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const header = lines[i]!;
    const valueLine = lines[i + 1]!;
    const colon = header.indexOf(':');
    // A values line starts with its header's own "Prefix:".
    if (colon <= 0 || !valueLine.startsWith(header.slice(0, colon + 1))) continue;
    const keys = keysOf(header, prefixes, only);
    if (keys.every((k) => k === undefined)) continue;
    const values = valueLine.split(/\s+/);
    for (let k = 1; k < keys.length && k < values.length; k++) {
      const key = keys[k];
      if (key !== undefined) out[key] = Number(values[k]);
    }
  }
  return out;
}

/** The counters a report always shows; every other changed counter is kept in the delta too. */
export const KEY_COUNTERS = [
  'TcpExt.TW',
  'TcpExt.TWRecycled',
  'TcpExt.TWKilled',
  'TcpExt.TCPTimeWaitOverflow',
  'TcpExt.ListenOverflows',
  'TcpExt.ListenDrops',
  'Tcp.ActiveOpens',
  'Tcp.PassiveOpens',
  'Tcp.AttemptFails',
  'Tcp.EstabResets',
  'Tcp.OutRsts',
  // close(2) with unread data sends RST (AbortOnClose); SO_LINGER 0, or data reaching a closed socket, counts AbortOnData.
  'TcpExt.TCPAbortOnClose',
  'TcpExt.TCPAbortOnData',
] as const;

/** KEY_COUNTERS as a set: what a sample reads of the counter tables. */
export const KEY_COUNTER_SET: ReadonlySet<string> = new Set(KEY_COUNTERS);

/** Tcp.CurrEstab is a gauge, not a counter: its "delta" would mean nothing. */
const GAUGES = new Set<string>([
  'Tcp.CurrEstab',
  'Tcp.RtoAlgorithm',
  'Tcp.RtoMin',
  'Tcp.RtoMax',
  'Tcp.MaxConn',
  ...CONNTRACK_GAUGES,
]);

export const isGauge = (counter: string) => GAUGES.has(counter);

export function counterDelta(start: Counters, end: Counters): Counters {
  const out: Counters = {};
  for (const key of KEY_COUNTERS) out[key] = (end[key] ?? 0) - (start[key] ?? 0);
  // A host whose counters have conntrack's (it forwards) shows its key events even where they stayed at 0.
  if (Object.keys(end).some((k) => k.startsWith(CONNTRACK_PREFIX)))
    for (const key of CONNTRACK_KEY_COUNTERS) out[key] = (end[key] ?? 0) - (start[key] ?? 0);
  for (const [key, v] of Object.entries(end)) {
    if (GAUGES.has(key) || key in out) continue;
    const d = v - (start[key] ?? 0);
    if (d !== 0) out[key] = d;
  }
  return out;
}

/** The key counters, and every conntrack one where the host has them: what each sample carries. */
export function pickKeyCounters(all: Counters): Counters {
  const out: Counters = {};
  for (const key of KEY_COUNTERS) out[key] = all[key] ?? 0;
  for (const [key, v] of Object.entries(all)) if (key.startsWith(CONNTRACK_PREFIX)) out[key] = v;
  return out;
}

export interface Sockstat {
  /** TCP sockets in use in this namespace. */
  inuse: number;
  /** Orphans: counted for the whole machine, not per namespace. */
  orphan: number;
  /** TIME_WAIT sockets in this namespace, as the kernel itself counts them. */
  tw: number;
  /** Allocated sockets: the whole machine. */
  alloc: number;
  /** Pages of TCP buffer memory: the whole machine. */
  mem: number;
}

/** The "TCP:" line of /proc/net/sockstat. */
export function parseSockstat(text: string): Sockstat {
  const line = text.split('\n').find((l) => l.startsWith('TCP:')) ?? '';
  const fields = line.split(/\s+/).slice(1);
  const get = (name: string) => {
    const i = fields.indexOf(name);
    return i >= 0 ? Number(fields[i + 1]) : 0;
  };
  return { inuse: get('inuse'), orphan: get('orphan'), tw: get('tw'), alloc: get('alloc'), mem: get('mem') };
}
