// comparison.html of a profile comparison or a sweep, and compare.html of `waitlab compare`: the same charts
// overlaid, one line per run (TIME_WAIT per host, successes and errors per second per load actor, each run's first
// failure marked), the comparison's table below, and a link to each run's own report.html. Each run's series
// come from its samples.ndjson.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Comparison } from '../report/comparison.ts';
import type { MatrixComparison } from '../report/matrix.ts';
import { stat, type Report } from '../report/report.ts';
import { chartId, loadActors, overlay, perSecond, PALETTE, seconds, type ChartSpec } from './chart-specs.ts';
import { escapeHtml } from './html-escape.ts';
import { chartFigure, htmlPage } from './html-page.ts';
import { comparisonHeader } from './comparison-markdown.ts';
import { comparisonSections } from './comparison-sections.ts';
import { matrixHeader, matrixSections } from './matrix-summary.ts';
import { readRunTimeline, type RunTimeline } from './run-timeline.ts';
import { sectionsHtml } from './sections.ts';
import { portBudget } from '../core/port-budget.ts';
import { numberText } from '../core/number-text.ts';

interface ComparedRun {
  label: string;
  report: Report;
  timeline: RunTimeline;
}

/** A run on disk to draw: its label (unique on the page), its report, and its directory (where samples.ndjson and report.html are). */
export interface RunOnDisk {
  label: string;
  report: Report;
  dir: string;
}

async function withTimelines(runs: readonly RunOnDisk[]): Promise<ComparedRun[]> {
  const out: ComparedRun[] = [];
  for (const r of runs)
    out.push({
      label: r.label,
      report: r.report,
      timeline: await readRunTimeline(r.report, join(r.dir, 'samples.ndjson')),
    });
  return out;
}

/** Links to each run's report.html; hrefs come encoded (a relative path through encodeURI, or a file: URL). */
const runLinks = (runs: readonly { label: string; href: string }[]) =>
  `<p class="meta">Each run's own page: ${runs.map((r) => `<a href="${escapeHtml(r.href)}">${escapeHtml(r.label)}</a>`).join(', ')}</p>`;

const n = (v: number) => numberText(v);

function firstFailures(runs: readonly ComparedRun[], actor?: string): ChartSpec['marks'] {
  return runs.flatMap((r, k) =>
    loadActors(r.report)
      .filter(([name]) => actor === undefined || name === actor)
      .flatMap(([, a]) => {
        const first = stat(a, 'firstError');
        return first
          ? [{ x: seconds(first.atMs), label: `${r.label}: first ${first.code}`, color: PALETTE[k % PALETTE.length]! }]
          : [];
      }),
  );
}

/** TIME_WAIT of one host, per run; a run's port budget drawn where its TIME_WAIT reached nine tenths of it (where the budget was what stopped it). */
function timeWaitChart(host: string, runs: readonly ComparedRun[]): ChartSpec {
  const withHost = runs.filter((r) => r.timeline.hosts[host]);
  const { x, series } = overlay(
    withHost.map((r) => ({
      label: r.label,
      x: r.timeline.hosts[host]!.t.map(seconds),
      values: r.timeline.hosts[host]!.states.TIME_WAIT ?? r.timeline.hosts[host]!.t.map(() => 0),
    })),
  );
  const budgets = new Map<number, string[]>();
  for (const r of withHost) {
    const budget = portBudget(r.report.hosts[host]?.sysctls ?? {})?.budget;
    if (budget !== undefined && (r.report.hosts[host]?.peak.total.TIME_WAIT ?? 0) >= budget * 0.9)
      budgets.set(budget, [...(budgets.get(budget) ?? []), r.label]);
  }
  return {
    id: chartId('cmp', 'host', host, 'time-wait'),
    title: `TIME_WAIT on host ${host}, per run`,
    y: 'sockets',
    x,
    series,
    marks: firstFailures(withHost),
    levels: [...budgets].map(([y, labels]) => ({
      y,
      label: `port budget ${n(y)} (${labels.join(', ')})`,
      color: '#000000',
    })),
  };
}

/** One load actor's successes or errors (every code) per second, per run. */
function rateChart(actor: string, what: 'ok' | 'errors', runs: readonly ComparedRun[]): ChartSpec {
  const withActor = runs.filter((r) => r.timeline.actors[actor]);
  const { x, series } = overlay(
    withActor.map((r) => {
      const a = r.timeline.actors[actor]!;
      const cumulative =
        what === 'ok' ? a.ok : a.t.map((_, i) => Object.values(a.errors).reduce((sum, c) => sum + c[i]!, 0));
      return {
        label: r.label,
        x: a.t.map(seconds),
        values: perSecond(a.t, cumulative, stat(r.report.actors[actor], 'startedAtMs')),
      };
    }),
  );
  return {
    id: chartId('cmp', 'actor', actor, what),
    title:
      what === 'ok'
        ? `Successes of ${actor} per second, per run`
        : `Errors of ${actor} per second (every code), per run`,
    y: 'per second',
    x,
    series,
    marks: what === 'errors' ? firstFailures(withActor, actor) : [],
    levels: [],
    note: "rates over each interval between the actor's stats events (every 500 ms); time since each run's own start",
  };
}

export function comparisonCharts(runs: readonly ComparedRun[]): ChartSpec[] {
  const hosts = [...new Set(runs.flatMap((r) => Object.keys(r.timeline.hosts)))];
  const actors = [...new Set(runs.flatMap((r) => loadActors(r.report).map(([name]) => name)))].filter((a) =>
    runs.some((r) => r.timeline.actors[a]),
  );
  return [
    ...hosts
      .filter((h) => runs.some((r) => r.report.hosts[h]!.peak.total.TIME_WAIT > 0))
      .map((h) => timeWaitChart(h, runs)),
    ...actors.flatMap((a) => [rateChart(a, 'ok', runs), rateChart(a, 'errors', runs)]),
  ];
}

/** The page of a comparison whose runs live in `dir` (each in its MatrixRun.dir), with their reports. */
export async function renderComparisonHtml(
  c: MatrixComparison,
  dir: string,
  reports: readonly Report[],
): Promise<string> {
  const runs = await withTimelines(
    c.runs.map((run, i) => ({ label: run.label, report: reports[i]!, dir: join(dir, run.dir) })),
  );
  const [title] = matrixHeader(c);
  const charts = comparisonCharts(runs);
  const body = [
    `<h1 class="verdict-${escapeHtml(c.verdict)}">${escapeHtml(title!)}</h1>`,
    runLinks(c.runs.map((r) => ({ label: r.label, href: encodeURI(`${r.dir}/report.html`) }))),
    `<div class="charts">${charts.map(chartFigure).join('')}</div>`,
    sectionsHtml(matrixSections(c)),
  ];
  return htmlPage(title!, body.join('\n'), charts);
}

/** compare.html: a run against its baseline's runs (those still on disk), links by absolute file URL since the page lives apart from them. */
export async function renderCompareHtml(
  c: Comparison,
  baselineRuns: readonly RunOnDisk[],
  current: RunOnDisk,
): Promise<string> {
  const runs = await withTimelines([...baselineRuns, current]);
  const [title, ...meta] = comparisonHeader(c);
  const charts = comparisonCharts(runs);
  const body = [
    `<h1 class="verdict-${c.verdict === 'pass' ? 'pass' : 'fail'}">${escapeHtml(title!)}</h1>`,
    ...meta.map((l) => `<p class="meta">${escapeHtml(l)}</p>`),
    baselineRuns.length
      ? ''
      : '<p class="note">The baseline\'s runs are not on disk (baseline.json keeps their medians only): the current run is drawn alone.</p>',
    runLinks(
      [...baselineRuns, current].map((r) => ({ label: r.label, href: pathToFileURL(join(r.dir, 'report.html')).href })),
    ),
    `<div class="charts">${charts.map(chartFigure).join('')}</div>`,
    sectionsHtml(comparisonSections(c)),
  ];
  return htmlPage(title!, body.join('\n'), charts);
}
