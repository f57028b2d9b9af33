// Whether one run of a comparison went as its predictions said: the problem reproduced when and as predicted,
// or was cured as predicted, or neither. A comparison asks "which change cures it", so a run that cured the
// problem as predicted answers it rightly even where a threshold of the scenario demanded the problem.
import { metricOf } from '../core/metric-paths.ts';
import { parseThreshold } from '../core/thresholds.ts';
import { formatDuration } from '../core/units.ts';
import type { ExhaustionPrediction, NatPortsPrediction, Report } from './report.ts';

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

/** Connections held through a NAT are a count the range caps exactly, not a time: 5% either way. */
const NAT_CLOSE_ENOUGH = 0.05;

/** A NAT gateway's ports: reproduced where the pools want more than the range and the server held the range, cured where they fit and all got through. */
function natOutcome(p: NatPortsPrediction): RunOutcome {
  const short = p.pooled > p.translatedPorts;
  const held = `the server at ${p.destination} held ${p.measuredHeld} connections from ${p.gateway}, predicted ${p.predictedHeld} (${p.translatedPorts} translated ports, pools of ${p.pooled})`;
  if (p.ratio !== null && Math.abs(p.ratio - 1) <= NAT_CLOSE_ENOUGH)
    return { verdict: short ? 'reproduced as predicted' : 'cured as predicted', why: [held], matched: true };
  return { verdict: 'not as predicted', why: [held], matched: false };
}

export function runOutcome(report: Report, loadMs: number): RunOutcome {
  const e = exhaustionOf(report);
  const failed = report.thresholds.filter((t) => !t.ok);
  if (report.verdict === 'error' || report.verdict === 'interrupted')
    return {
      verdict: 'not as predicted',
      why: [`the run ended in ${report.verdict}${report.error ? `: ${report.error}` : ''}`],
      matched: false,
    };
  const nat = Object.values(report.predictions).find((p) => p.natPorts)?.natPorts;
  if (!e && nat) return natOutcome(nat);
  if (!e) {
    return {
      verdict: 'no prediction',
      why: failed.map((t) => `threshold ${t.expression} failed`),
      matched: failed.length === 0,
    };
  }
  const predicted = e.predictedMs !== null && e.predictedMs <= loadMs;
  const measured = e.measuredMs !== null;
  const noProblem = failed
    .filter((t) => demandsProblem(t.expression, t.value))
    .map((t) => `threshold ${t.expression} failed because the problem did not reproduce`);
  if (predicted && measured && e.ratio !== null && Math.abs(e.ratio - 1) <= CLOSE_ENOUGH) {
    return {
      verdict: 'reproduced as predicted',
      why: [`first EADDRNOTAVAIL at ${formatDuration(e.measuredMs!)}, predicted ${formatDuration(e.predictedMs!)}`],
      matched: true,
    };
  }
  if (!predicted && !measured) {
    const when =
      e.predictedMs === null
        ? (e.basis ?? 'no exhaustion predicted')
        : `exhaustion predicted at ${formatDuration(e.predictedMs)}, after the load's ${formatDuration(loadMs)}`;
    return { verdict: 'cured as predicted', why: [`no EADDRNOTAVAIL: ${when}`, ...noProblem], matched: true };
  }
  const why = !measured
    ? `exhaustion predicted at ${formatDuration(e.predictedMs!)} within the load, none measured`
    : !predicted
      ? `no exhaustion predicted within the load, first EADDRNOTAVAIL at ${formatDuration(e.measuredMs!)}`
      : `first EADDRNOTAVAIL at ${formatDuration(e.measuredMs!)}, predicted ${formatDuration(e.predictedMs!)} (measured/predicted ${e.ratio})`;
  return { verdict: 'not as predicted', why: [why], matched: false };
}
