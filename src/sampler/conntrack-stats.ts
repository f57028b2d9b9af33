// Connection tracking statistics of this network namespace, for a host that forwards (a gateway): the NAT's
// side of the story. /proc/net/stat/nf_conntrack is per namespace: one row per CPU, in hex, under a header
// line; its `entries` column is the namespace's entry count (the same on every row), the others per-CPU event
// counts to add up. insert_failed counts a new entry lost to a clash (two SYNs given one translated 4-tuple:
// the loser's packet is dropped and its client resends the SYN a second later); drop and early_drop count
// entries refused or evicted because the table was full. nf_conntrack_max is one value for the whole machine
// (read-only inside a namespace on this kernel), so it is read, never written.
import { ProcFile } from './proc-file.ts';

/** Conntrack's counters by name (Conntrack.<column>), as kernel-counters.ts keeps the TCP ones. */
type Counters = Record<string, number>;

/** Prefix of the conntrack counters among a host's kernel counters. */
export const CONNTRACK_PREFIX = 'Conntrack.';

/** Gauges, not counters: their "delta" would mean nothing. */
export const CONNTRACK_GAUGES = ['Conntrack.entries', 'Conntrack.max'] as const;

/**
 * The events a report always shows for a forwarding host, moved or not. `found` counts the NAT's lookups that found
 * a tuple already taken (nf_conntrack_tuple_taken): SYNs whose source port was held, translated to another port.
 */
export const CONNTRACK_KEY_COUNTERS = [
  'Conntrack.insert_failed',
  'Conntrack.drop',
  'Conntrack.early_drop',
  'Conntrack.clash_resolve',
  'Conntrack.invalid',
  'Conntrack.search_restart',
  'Conntrack.found',
] as const;

// The kernel's header says "clashres"; the report spells it out.
const NAMES: Readonly<Record<string, string>> = { clashres: 'clash_resolve' };

/** The table's columns summed over CPUs, `entries` taken once; undefined for a file without the header. */
export function parseConntrackStats(text: string): Counters | undefined {
  const [header, ...rows] = text.split('\n').filter((l) => l.trim());
  const names = header?.trim().split(/\s+/);
  if (names?.[0] !== 'entries') return undefined;
  const out: Counters = {};
  rows.forEach((row, cpu) => {
    const values = row.trim().split(/\s+/);
    names.forEach((name, i) => {
      const v = Number.parseInt(values[i] ?? '', 16);
      if (!Number.isFinite(v)) return;
      const key = `${CONNTRACK_PREFIX}${NAMES[name] ?? name}`;
      if (name === 'entries') {
        if (cpu === 0) out[key] = v;
      } else out[key] = (out[key] ?? 0) + v;
    });
  });
  return out;
}

const STATS = ProcFile.small('/proc/net/stat/nf_conntrack', true);
const MAX = ProcFile.small('/proc/sys/net/netfilter/nf_conntrack_max', true);

// The limit is the machine's, read-only from a lab's namespace: read once, not at every tick.
let maxRead: Promise<Counters> | undefined;
const readMax = async (): Promise<Counters> => {
  const max = Number((await MAX.read()).toString('latin1').trim());
  return Number.isInteger(max) && max > 0 ? { 'Conntrack.max': max } : {};
};

/** This namespace's conntrack counters and its table limit; empty where conntrack is not loaded. */
export async function readConntrack(): Promise<Counters> {
  const stats = parseConntrackStats((await STATS.read()).toString('latin1'));
  if (!stats) return {};
  maxRead ??= readMax();
  return { ...stats, ...(await maxRead) };
}
