// /proc/net/netstat (TcpExt) and /proc/net/snmp (Tcp): pairs of lines, names then values, per network namespace.
import { CONNTRACK_GAUGES, CONNTRACK_KEY_COUNTERS, CONNTRACK_PREFIX } from './conntrack-stats.ts';

export type Counters = Record<string, number>;

/** Parses "Prefix: name name ...\nPrefix: 1 2 ..." pairs, keeping only the wanted prefixes, keyed "Prefix.name". */
export function parseCounterPairs(text: string, prefixes: readonly string[]): Counters {
  const out: Counters = {};
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = lines[i]!.split(/\s+/);
    const values = lines[i + 1]!.split(/\s+/);
    const prefix = names[0]?.replace(/:$/, '');
    if (!prefix || values[0] !== names[0] || !prefixes.includes(prefix)) continue;
    for (let k = 1; k < names.length && k < values.length; k++) {
      if (names[k]) out[`${prefix}.${names[k]}`] = Number(values[k]);
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
