// A terminal cannot show 200 replicas row by row, column by column and finding by finding: the terminal summary keeps
// the first replicas of each scaled host and folds the rest into one line per table, saying how many and where they
// are (the Replicas table's total, report.json, summary.md). summary.md and report.json keep every replica.
import type { Report } from '../report/report.ts';
import type { Section } from './sections.ts';

/** Replicas of a host shown in full; the rest of a group larger than SHOWN + 1 are folded. */
export const SHOWN_REPLICAS = 3;

/** The sysctls a replica read back unlike the first replica's ("net.ipv4.tcp_tw_reuse 1"), or ''. */
export function sysctlsUnlike(r: Report, first: string, host: string): string {
  const base = r.hosts[first]?.sysctls ?? {};
  const unlike = Object.entries(r.hosts[host]?.sysctls ?? {}).filter(([k, v]) => base[k] !== v);
  return unlike.map(([k, v]) => `${k} ${v}`).join(', ');
}

/** The host and actor names folded away, and for each group the words that say so. A replica tuned apart stays. */
function foldedNames(r: Report): { names: Set<string>; groups: string[] } {
  const names = new Set<string>();
  const groups: string[] = [];
  for (const [host, g] of Object.entries(r.replicas ?? {})) {
    if (g.hosts.length <= SHOWN_REPLICAS + 1) continue;
    const hidden = g.hosts
      .map((h, i) => ({ h, i }))
      .slice(SHOWN_REPLICAS)
      .filter(({ h }) => sysctlsUnlike(r, g.hosts[0]!, h) === '');
    if (hidden.length === 0) continue;
    for (const { h } of hidden) names.add(h);
    for (const total of Object.values(g.actors)) for (const { i } of hidden) names.add(total.replicas[i]!);
    const tunedShown = g.hosts.length - SHOWN_REPLICAS - hidden.length;
    groups.push(
      `${hidden[0]!.h}..${hidden.at(-1)!.h} (${hidden.length} replicas of ${host}${tunedShown > 0 ? `; the ${tunedShown} tuned apart among them shown` : ''})`,
    );
  }
  return { names, groups };
}

export function foldReplicas(r: Report, sections: readonly Section[]): Section[] {
  const { names, groups } = foldedNames(r);
  if (names.size === 0) return [...sections];
  const folded = groups.join(', ');
  const where = `${folded}: their totals are in the Replicas table, each one in summary.md and report.json`;
  const findingOf = new Map((r.claims ?? []).map((c) => [c.finding, c]));
  // A server's per-peer rows name its clients by address ("from 198.18.0.57").
  const addresses = new Set([...names].flatMap((n) => (r.hosts[n] ? [r.hosts[n].address] : [])));
  const peerFolded = (cell: string | undefined) =>
    addresses.has(/^(?:from|to) \[?([^\]\s]+?)\]?(?::\d+)?$/.exec(cell ?? '')?.[1] ?? '');
  return sections.map((s) => {
    const out: Section = { ...s };
    if (s.head && s.rows) {
      // A table of a column per host (sysctls, counters): the folded hosts' columns go.
      const keep = s.head.map((h, i) => i === 0 || !names.has(h));
      if (keep.includes(false)) {
        out.head = s.head.filter((_, i) => keep[i]);
        out.rows = s.rows.map((row) => row.filter((_, i) => keep[i]));
        out.title = `${s.title} (columns of ${folded} folded)`;
      }
      // A table of a row per host or actor (its first cell, or the replica's in the Replicas table).
      const rows = out.rows!;
      const kept = rows.filter((row) => !names.has(row[0]!) && !names.has(row[1]!) && !peerFolded(row[1]));
      if (kept.length < rows.length)
        out.rows = [...kept, [`+${rows.length - kept.length} rows folded`, ...out.head!.slice(1).map(() => '')]];
    }
    if (s.bullets) {
      // A finding on a folded replica, or about its peers only when they are all folded replicas; another section's
      // bullet that names a folded host or actor in its first words ("flood_57, first ...", "Census on client_88: ...").
      const folded = (i: number) => {
        if (s.title !== 'Findings')
          return s.bullets![i]!.split(' ', 4).some((word) => names.has(word.replace(/[,:;.]+$/, '')));
        const c = findingOf.get(i);
        return c !== undefined && (names.has(c.host) || (c.peers.length > 0 && c.peers.every((p) => names.has(p))));
      };
      const kept = s.bullets.filter((_, i) => !folded(i));
      if (kept.length < s.bullets.length)
        out.bullets = [
          ...kept,
          `${s.bullets.length - kept.length} more ${s.title === 'Findings' ? 'findings' : 'lines'} on ${where}.`,
        ];
    }
    return out;
  });
}
