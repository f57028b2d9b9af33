// Whether one run of a comparison went as its predictions said: the problem reproduced when and as predicted,
// or was cured as predicted, or neither. A comparison asks "which change cures it", so a run that cured the
// problem as predicted answers it rightly even where a threshold of the scenario demanded the problem.
import { metricOf } from '../core/metric-paths.ts';
import { parseThreshold } from '../core/thresholds.ts';
import { formatDuration } from '../core/units.ts';
import type { ExhaustionPrediction, Report } from './report.ts';

export type RunVerdict = 'reproduced as predicted' | 'cured as predicted' | 'not as predicted' | 'no prediction';

export interface RunOutcome {
  readonly verdict: RunVerdict;
  /** Why, in the prediction's own figures, and each failed threshold that demanded the problem. */
  readonly why: readonly string[];
  /** Whether the run answers as expected: as predicted, or (with no prediction) every threshold passed. */
  readonly matched: boolean;
}

/** Exhaustion measured within 20% of the port budget over the connect rate counts as predicted, as short-conn's thresholds hold it. */
const CLOSE_ENOUGH = 0.2;

/** A threshold that asks for the problem: a lower bound on something worse as it rises (errors, TIME_WAIT) or on a prediction's figure. */
function demandsProblem(expression: string, value: number | null): boolean {
  const t = parseThreshold(expression);
  if (value === null && /^predictions\.[^.]+\.exhaustion\./.test(t.path)) return true;
  const def = metricOf(t.path);
  return (t.op === '>' || t.op === '>=') && (def?.worse === 'rise' || t.path.startsWith('predictions.'));
}

function exhaustionOf(report: Report): ExhaustionPrediction | undefined {
  return Object.values(report.predictions).find((p) => p.exhaustion)?.exhaustion;
}

export function runOutcome(report: Report, loadMs: number): RunOutcome {
  const e = exhaustionOf(report);
  const failed = report.thresholds.filter((t) => !t.ok);
  if (report.verdict === 'error' || report.verdict === 'interrupted') return { verdict: 'not as predicted', why: [`the run ended in ${report.verdict}${report.error ? `: ${report.error}` : ''}`], matched: false };
  if (!e) {
    return { verdict: 'no prediction', why: failed.map((t) => `threshold ${t.expression} failed`), matched: failed.length === 0 };
  }
  const predicted = e.predictedMs !== null && e.predictedMs <= loadMs;
  const measured = e.measuredMs !== null;
  const noProblem = failed.filter((t) => demandsProblem(t.expression, t.value)).map((t) => `threshold ${t.expression} failed because the problem did not reproduce`);
  if (predicted && measured && e.ratio !== null && Math.abs(e.ratio - 1) <= CLOSE_ENOUGH) {
    return { verdict: 'reproduced as predicted', why: [`first EADDRNOTAVAIL at ${formatDuration(e.measuredMs!)}, predicted ${formatDuration(e.predictedMs!)}`], matched: true };
  }
  if (!predicted && !measured) {
    const when = e.predictedMs === null ? e.basis ?? 'no exhaustion predicted' : `exhaustion predicted at ${formatDuration(e.predictedMs)}, after the load's ${formatDuration(loadMs)}`;
    return { verdict: 'cured as predicted', why: [`no EADDRNOTAVAIL: ${when}`, ...noProblem], matched: true };
  }
  const why = !measured
    ? `exhaustion predicted at ${formatDuration(e.predictedMs!)} within the load, none measured`
    : !predicted
      ? `no exhaustion predicted within the load, first EADDRNOTAVAIL at ${formatDuration(e.measuredMs!)}`
      : `first EADDRNOTAVAIL at ${formatDuration(e.measuredMs!)}, predicted ${formatDuration(e.predictedMs!)} (measured/predicted ${e.ratio})`;
  return { verdict: 'not as predicted', why: [why], matched: false };
}
