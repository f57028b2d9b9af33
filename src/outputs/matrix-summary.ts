// comparison.md and the terminal table of a profile comparison or a sweep: a row per run, then the findings
// across runs.
import { formatDuration } from '../core/units.ts';
import { lossList, type MatrixComparison } from '../report/matrix.ts';
import { sectionsMarkdown, sectionsText, type Section } from './sections.ts';

const n = (v: number) => v.toLocaleString('en-US', { maximumFractionDigits: 1 });

export function matrixSections(c: MatrixComparison): Section[] {
  const hosts = [...new Set(c.runs.flatMap((r) => Object.keys(r.peakTimeWait)))];
  const counterHosts = hosts.filter((h) => c.runs.some((r) => Object.values(r.counters[h] ?? {}).some((v) => v > 0)));
  const head = [
    'run',
    'verdict',
    'thresholds',
    'ok',
    'errors',
    'first failure',
    'rate /s',
    ...hosts.map((h) => `TIME_WAIT ${h}`),
    ...counterHosts.map((h) => `TWRecycled/Overflow/TWKilled ${h}`),
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
    ...hosts.map((h) => n(r.peakTimeWait[h] ?? 0)),
    ...counterHosts.map((h) => {
      const k = r.counters[h];
      return k ? `${n(k.TWRecycled)} / ${n(k.TCPTimeWaitOverflow)} / ${n(k.TWKilled)}` : '-';
    }),
    r.exhaustion
      ? `${r.exhaustion.predictedMs === null ? 'n/a' : formatDuration(r.exhaustion.predictedMs)} / ${r.exhaustion.measuredMs === null ? 'never' : formatDuration(r.exhaustion.measuredMs)}`
      : '-',
  ]);
  const out: Section[] = [{ title: 'Runs', head, rows }];
  const sysctlRows = c.runs.flatMap((r) =>
    Object.entries(r.profileSysctls).flatMap(([h, set]) => Object.entries(set).map(([k, v]) => [r.label, h, k, v])),
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
