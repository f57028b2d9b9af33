// comparison.md and the terminal table of a profile comparison or a sweep: a row per run, then the findings
// across runs.
import { formatDuration } from '../core/units.ts';
import type { MatrixComparison } from '../report/matrix.ts';
import { sectionsMarkdown, sectionsText, type Section } from './sections.ts';

const n = (v: number) => v.toLocaleString('en-US', { maximumFractionDigits: 1 });

export function matrixSections(c: MatrixComparison): Section[] {
  const hosts = [...new Set(c.runs.flatMap((r) => Object.keys(r.peakTimeWait)))];
  const counterHosts = hosts.filter((h) => c.runs.some((r) => Object.values(r.counters[h] ?? {}).some((v) => v > 0)));
  const head = [
    'run', 'verdict', 'ok', 'errors', 'first failure', 'rate /s',
    ...hosts.map((h) => `TIME_WAIT ${h}`),
    ...counterHosts.map((h) => `TWRecycled/Overflow/TWKilled ${h}`),
    'exhaustion predicted / measured',
  ];
  const rows = c.runs.map((r) => [
    r.label,
    r.verdict.toUpperCase(),
    n(r.ok),
    Object.entries(r.errors).map(([code, k]) => `${code} ${n(k)}`).join(', ') || '-',
    r.firstFailureMs === null ? 'none' : `${r.firstFailureCode} at ${formatDuration(r.firstFailureMs)}`,
    n(r.achievedRate),
    ...hosts.map((h) => n(r.peakTimeWait[h] ?? 0)),
    ...counterHosts.map((h) => {
      const k = r.counters[h];
      return k ? `${n(k.TWRecycled)} / ${n(k.TCPTimeWaitOverflow)} / ${n(k.TWKilled)}` : '-';
    }),
    r.exhaustion ? `${r.exhaustion.predictedMs === null ? 'n/a' : formatDuration(r.exhaustion.predictedMs)} / ${r.exhaustion.measuredMs === null ? 'never' : formatDuration(r.exhaustion.measuredMs)}` : '-',
  ]);
  const out: Section[] = [{ title: 'Runs', head, rows }];
  const sysctlRows = c.runs.flatMap((r) => Object.entries(r.profileSysctls).flatMap(([h, set]) => Object.entries(set).map(([k, v]) => [r.label, h, k, v])));
  if (sysctlRows.length) out.push({ title: 'Profile sysctls as read back', head: ['run', 'host', 'sysctl', 'value'], rows: sysctlRows });
  if (c.findings.length) out.push({ title: 'Across the runs', bullets: [...c.findings] });
  out.push({ title: 'Run directories', bullets: c.runs.map((r) => `${r.label}: ${r.dir}`) });
  return out;
}

export const matrixHeader = (c: MatrixComparison) => [`${c.scenario}: ${c.runs.length} runs${c.sweep ? `, ${c.sweep} swept` : ''}: ${c.verdict === 'pass' ? 'every run passed its thresholds' : 'a run failed its thresholds'}`];

export const matrixMarkdown = (c: MatrixComparison): string => sectionsMarkdown(matrixHeader(c), matrixSections(c));
export const matrixText = (c: MatrixComparison): string => sectionsText(matrixHeader(c), matrixSections(c));
