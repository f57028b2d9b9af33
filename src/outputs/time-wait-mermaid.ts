// summary.md's chart: the TIME_WAIT of the busiest host over time as a Mermaid xychart-beta, which GitHub (and
// other Markdown viewers) draw where the summary is read. From report.json's series, thinned to a few dozen
// points, each the maximum of its time slice, so the plateau at the port budget stays visible.
import { portBudget } from '../core/port-budget.ts';
import { terminalSafe } from '../core/terminal-text.ts';
import { planLinks } from '../report/evidence/links.ts';
import type { Report } from '../report/report.ts';
import type { Section } from './sections.ts';
import { numberText } from '../core/number-text.ts';

/** Points of the chart: enough to show the climb and the plateau, few enough for the x axis to read. */
export const MERMAID_POINTS = 40;

/** A Mermaid string: no quote to end it, no line break (U+2028 included) to leave the fence's line. */
const quoted = (text: string) => `"${terminalSafe(text).replace(/["`]/g, '')}"`;

/** Maxima of `values` over `points` equal slices of [t0, tN]; a slice with no sample holds the slice before it. */
export function sliceMaxima(
  t: readonly number[],
  values: readonly number[],
  points: number,
): { end: number[]; max: number[] } {
  const t0 = t[0]!;
  const count = Math.min(points, t.length);
  const width = (t[t.length - 1]! - t0) / count || 1;
  const max = new Array<number | undefined>(count).fill(undefined);
  t.forEach((x, i) => {
    const k = Math.min(count - 1, Math.floor((x - t0) / width));
    max[k] = Math.max(max[k] ?? 0, values[i] ?? 0);
  });
  const filled = max.map((v) => v ?? 0);
  for (let k = 1; k < count; k++) if (max[k] === undefined) filled[k] = filled[k - 1]!;
  return { end: filled.map((_, k) => t0 + width * (k + 1)), max: filled };
}

export function timeWaitChartSection(r: Report): Section | undefined {
  const [host, h] =
    Object.entries(r.hosts).sort(([, a], [, b]) => b.peak.total.TIME_WAIT - a.peak.total.TIME_WAIT)[0] ?? [];
  const tw = h?.series.states.TIME_WAIT;
  if (!host || !h || !tw || h.peak.total.TIME_WAIT === 0) return undefined;
  const { end, max } = sliceMaxima(h.series.t, tw, MERMAID_POINTS);
  const connectsOut = planLinks(r.scenario.plan).some((l) => l.client === host && l.ownPorts === undefined);
  const budget = connectsOut ? portBudget(h.sysctls)?.budget : undefined;
  const top = Math.max(h.peak.total.TIME_WAIT, budget ?? 0);
  const lines = [
    'xychart-beta',
    `  title ${quoted(`TIME_WAIT on host ${host} (peak ${numberText(h.peak.total.TIME_WAIT)})`)}`,
    `  x-axis ${quoted('s since the run started')} [${end.map((ms) => (ms / 1000).toFixed(1)).join(', ')}]`,
    `  y-axis ${quoted('sockets')} 0 --> ${Math.ceil((top * 1.1) / 10) * 10}`,
    `  line [${max.join(', ')}]`,
    ...(budget === undefined ? [] : [`  line [${max.map(() => budget).join(', ')}]`]),
  ];
  return {
    title: 'TIME_WAIT over time',
    code: { lang: 'mermaid', text: lines.join('\n') },
    bullets: [
      `Host ${host}, the one with the most TIME_WAIT: each point is the highest count of its ${((end[1]! - end[0]!) / 1000).toFixed(2)} s slice.${budget === undefined ? '' : ` The flat line is its port budget toward one ip:port (${numberText(budget)} ports of ip_local_port_range).`}`,
    ],
  };
}
