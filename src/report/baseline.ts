// A baseline from several runs of one scenario: per metric the median (what a comparison holds a run to),
// the range, and the spread. A metric whose own spread exceeds its tolerance is named when the baseline is
// recorded, and given a wider tolerance (or none) that comparisons with this baseline use: a comparison on its
// own tolerance could not tell a change from noise.
import { reportMetrics, seenOnly, toleranceFor, type ToleranceRule } from './compare.ts';
import type { Tolerance } from '../core/tolerance.ts';
import { INFORMATIONAL } from './comparison.ts';
import { BASELINE_KIND, type BaselineFile } from './report-file.ts';
import type { Report } from './report.ts';

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * The tolerance a comparison holds a noisy metric to: twice its spread across the runs, in the worse direction
 * (the range of a few runs understates how far the next one lands from their median). Where that would pass
 * anything (more than 100% of a median, or any amount from a median of 0), the metric is informational: shown,
 * never a regression, since an unchanged configuration must not fail a comparison on noise.
 */
export function widen(t: Tolerance, median: number, range: number, spread: number): string {
  const sign = t.worse === 'up' ? '+' : t.worse === 'down' ? '-' : '±';
  if (!t.relative) return `${sign}${Math.ceil(range * 2)}`;
  if (median === 0 || spread * 2 > 1) return INFORMATIONAL;
  return `${sign}${Math.ceil(spread * 200)}%`;
}

export function summarizeBaseline(
  reports: readonly Report[],
  runDirs: readonly string[],
  rules: readonly ToleranceRule[] = [],
): BaselineFile {
  const first = reports[0];
  if (!first) throw new Error('a baseline needs at least one run');
  const perRun = reports.map((r) => reportMetrics(r));
  // A metric every run has; an error code (a termination state) some runs never saw counts 0 in those.
  const paths = [...new Set(perRun.flatMap((m) => Object.keys(m)))]
    .filter((p) => seenOnly(p) || perRun.every((m) => p in m))
    .sort();
  const metrics: Record<string, number> = {};
  const min: Record<string, number> = {};
  const max: Record<string, number> = {};
  const spread: Record<string, number> = {};
  const noisy: { path: string; spread: number; tolerance: string; widened: string }[] = [];
  for (const path of paths) {
    const values = perRun.map((m) => m[path] ?? 0);
    const mid = median(values);
    metrics[path] = mid;
    min[path] = Math.min(...values);
    max[path] = Math.max(...values);
    // Relative to the median; where the median is 0, the range itself (any change from 0 exceeds a relative tolerance).
    spread[path] = Math.round(((max[path]! - min[path]!) / (mid !== 0 ? Math.abs(mid) : 1)) * 1000) / 1000;
    const rule = toleranceFor(path, rules);
    const range = max[path]! - min[path]!;
    const allowed = rule && (rule.tolerance.relative ? Math.abs(mid) * rule.tolerance.amount : rule.tolerance.amount);
    if (rule && allowed !== undefined && range > (rule.slack ?? 0) && range > allowed) {
      noisy.push({
        path,
        spread: spread[path]!,
        tolerance: rule.tolerance.text,
        widened: widen(rule.tolerance, mid, range, spread[path]!),
      });
    }
  }
  return {
    kind: BASELINE_KIND,
    schemaVersion: 1,
    identity: {
      label: 'baseline',
      scenario: first.scenario.name,
      kernel: first.environment.kernel,
      params: first.scenario.plan.params,
    },
    runs: [...runDirs],
    metrics,
    min,
    max,
    spread,
    noisy,
  };
}
