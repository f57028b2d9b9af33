// comparison.md and the terminal table of a profile comparison or a sweep: a row per run, then the findings
// across runs.
import { formatDuration } from '../core/units.ts';
import { lossList, type MatrixComparison } from '../report/matrix.ts';
import { SHOWN_REPLICAS } from './fold-replicas.ts';
import { sectionsMarkdown, sectionsText, type Section } from './sections.ts';
import { numberText } from '../core/number-text.ts';

const n = (v: number) => numberText(v, 1);

/**
 * Scaled hosts of more than FOLD_ABOVE replicas, by the scenario's host name: a column per replica made a table of
 * 100 columns for 50 clients (a new user's comparison), so each group gets one column of its largest or summed figure.
 */
const FOLD_ABOVE = SHOWN_REPLICAS + 1;

function replicaGroups(c: MatrixComparison): Map<string, readonly string[]> {
  const groups = new Map<string, readonly string[]>();
  for (const r of c.runs)
    for (const [host, copies] of Object.entries(r.replicas ?? {}))
      if (copies.length > FOLD_ABOVE && (groups.get(host)?.length ?? 0) < copies.length) groups.set(host, copies);
  return groups;
}

export function matrixSections(c: MatrixComparison): Section[] {
  const groups = replicaGroups(c);
  const folded = new Set([...groups.values()].flat());
  const all = [...new Set(c.runs.flatMap((r) => Object.keys(r.peakTimeWait)))];
  // One column per host, or per group of replicas (in the place of its first host).
  const hosts = all.filter((h) => !folded.has(h) || groups.has(h));
  const copiesOf = (h: string): readonly string[] => groups.get(h) ?? [h];
  const label = (h: string, what: string) => (groups.has(h) ? `${h} x${copiesOf(h).length} (${what})` : h);
  const counterHosts = hosts.filter((h) =>
    c.runs.some((r) => copiesOf(h).some((x) => Object.values(r.counters[x] ?? {}).some((v) => v > 0))),
  );
  const head = [
    'run',
    'verdict',
    'thresholds',
    'ok',
    'errors',
    'first failure',
    'rate /s',
    ...hosts.map((h) => `TIME_WAIT ${label(h, 'most')}`),
    ...counterHosts.map((h) => `TWRecycled/Overflow/TWKilled ${label(h, 'sum')}`),
    'exhaustion predicted / measured',
  ];
  const rows = c.runs.map((r) => [
    r.label,
    r.outcome.verdict,
    r.verdict,
    n(r.ok),
    Object.entries(r.errors)
      .map(([code, k]) => `${code} ${n(k)}`)
      .join(', ') || '-',
    r.firstFailureMs === null ? 'none' : `${r.firstFailureCode} at ${formatDuration(r.firstFailureMs)}`,
    n(r.achievedRate),
    ...hosts.map((h) => n(Math.max(0, ...copiesOf(h).map((x) => r.peakTimeWait[x] ?? 0)))),
    ...counterHosts.map((h) => {
      const ks = copiesOf(h).flatMap((x) => (r.counters[x] ? [r.counters[x]] : []));
      const total = (f: 'TWRecycled' | 'TCPTimeWaitOverflow' | 'TWKilled') => n(ks.reduce((a, k) => a + k[f], 0));
      return ks.length ? `${total('TWRecycled')} / ${total('TCPTimeWaitOverflow')} / ${total('TWKilled')}` : '-';
    }),
    r.exhaustion
      ? `${r.exhaustion.predictedMs === null ? 'n/a' : formatDuration(r.exhaustion.predictedMs)} / ${r.exhaustion.measuredMs === null ? 'never' : formatDuration(r.exhaustion.measuredMs)}`
      : '-',
  ]);
  const out: Section[] = [{ title: 'Runs', head, rows }];
  // A replica that read back what its group's first host read is told once, on that host's row.
  const firstOf = new Map([...groups].flatMap(([first, copies]) => copies.map((x) => [x, first] as const)));
  const sysctlRows = c.runs.flatMap((r) =>
    Object.entries(r.profileSysctls).flatMap(([h, set]) =>
      Object.entries(set).flatMap(([k, v]) => {
        const first = firstOf.get(h);
        if (first !== undefined && first !== h && r.profileSysctls[first]?.[k] === v) return [];
        const alike = first === h && copiesOf(h).every((x) => r.profileSysctls[x]?.[k] === v);
        return [[r.label, alike ? `${h} x${copiesOf(h).length} (every replica)` : h, k, v]];
      }),
    ),
  );
  if (sysctlRows.length)
    out.push({ title: 'Profile sysctls as read back', head: ['run', 'host', 'sysctl', 'value'], rows: sysctlRows });
  out.push({
    title: 'Each run against its predictions',
    bullets: c.runs.map(
      (r) => `${r.label}: ${r.outcome.verdict}${r.outcome.why.length ? `: ${r.outcome.why.join('; ')}` : ''}`,
    ),
  });
  if (c.findings.length) out.push({ title: 'Across the runs', bullets: [...c.findings] });
  out.push({ title: 'Run directories', bullets: c.runs.map((r) => `${r.label}: ${r.dir}`) });
  return out;
}

/**
 * "tw-reuse cured it: 0 of 800 EADDRNOTAVAIL; cost: ...", or postponed it past the load, per curing run; and per run
 * that only hid it from the clients, that it did, with the losses that went on.
 */
function cureWords(c: MatrixComparison): string {
  if (!c.problem) return `${c.runs[0]?.label ?? 'the first run'} had no errors: nothing to cure`;
  const hid = c.hidden.map(
    (h) =>
      `${h.label} hid it without curing it: 0 of ${n(h.before)} ${h.code} at the clients, while the server side went on losing requests (${lossList(h.stillLost)})`,
  );
  if (!c.cures.length)
    return [`no run cured it: ${n(c.problem.count)} ${c.problem.code} in ${c.runs[0]!.label}`, ...hid].join('. ');
  return [
    ...c.cures.map((k) => {
      const what =
        k.postponedToMs === null
          ? 'cured it'
          : `postponed it past the load's ${formatDuration(k.loadMs)} (predicted at ${formatDuration(k.postponedToMs)})`;
      return `${k.label} ${what}: ${n(k.after)} of ${n(k.before)} ${k.code}${k.cost ? `; cost: ${k.cost}` : ''}`;
    }),
    ...hid,
  ].join('. ');
}

export const matrixHeader = (c: MatrixComparison) => {
  const astray = c.runs.filter((r) => !r.outcome.matched).map((r) => r.label);
  return [
    `${c.scenario}: ${c.runs.length} runs${c.sweep ? `, ${c.sweep} swept` : ''}: ${cureWords(c)}`,
    astray.length ? `not as predicted: ${astray.join(', ')}` : 'every run as predicted',
  ];
};

export const matrixMarkdown = (c: MatrixComparison): string => sectionsMarkdown(matrixHeader(c), matrixSections(c));
export const matrixText = (c: MatrixComparison): string => sectionsText(matrixHeader(c), matrixSections(c));
