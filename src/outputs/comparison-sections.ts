// The comparison with a baseline as summary sections: the verdict, what weakens the comparison, and every
// metric out of tolerance, worst first. Shared by summary.md, the terminal summary and `waitlab compare`.
import type { Comparison, MetricComparison } from '../report/comparison.ts';
import type { Section } from './sections.ts';
import { numberText } from '../core/number-text.ts';

const num = (v: number | null | undefined) => (v === null || v === undefined ? '-' : numberText(v, 2));

function row(m: MetricComparison): string[] {
  return [
    m.verdict === 'ok' ? 'ok' : m.verdict.toUpperCase(),
    m.path,
    m.kind,
    num(m.baseline),
    m.current === null ? 'absent' : num(m.current),
    num(m.ratio),
    m.tolerance,
    m.spread === undefined ? '-' : `${num(m.spread * 100)}%`,
  ];
}

export function comparisonSections(c: Comparison): Section[] {
  const out: Section[] = [];
  const bad = c.metrics.filter((m) => m.verdict === 'regression' || m.verdict === 'missing');
  const better = c.metrics.filter((m) => m.verdict === 'improvement');
  const within = c.metrics.filter((m) => m.verdict === 'ok');
  const bullets = [
    `${c.verdict === 'pass' ? 'PASS' : 'REGRESSION'}: ${c.current.label} against baseline ${c.baseline.label} (${c.baseline.scenario}); ${bad.length} out of tolerance, ${better.length} better, ${within.length} within tolerance, of ${c.metrics.length} compared.`,
    ...c.warnings.map((w) => `warning: ${w}`),
  ];
  out.push({ title: 'Compared with the baseline', bullets });
  const shown = [...bad, ...better];
  if (shown.length) {
    out.push({
      title: 'Metrics out of tolerance or better, worst first',
      head: ['verdict', 'metric', 'kind', 'baseline', 'current', 'current/baseline', 'tolerance', 'baseline spread'],
      rows: shown.map(row),
    });
  }
  return out;
}
