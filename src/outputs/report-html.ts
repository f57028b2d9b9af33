// report.html: the run at a glance. Socket states per host over time against the port budget, each load
// actor's rates and errors with its first failure and the prediction beside it, latency, kernel counters, the
// topology, and the summary's tables (findings, thresholds, sysctls) below. One file that opens from disk.
import { formatDuration } from '../core/units.ts';
import type { Report } from '../report/report.ts';
import {
  actorLatencyChart,
  actorLoadChart,
  hostCountersChart,
  hostStatesChart,
  loadActors,
  type ChartSpec,
} from './chart-specs.ts';
import { escapeHtml } from './html-escape.ts';
import { chartFigure, htmlPage } from './html-page.ts';
import type { Output } from './output.ts';
import { readRunTimeline, type RunTimeline } from './run-timeline.ts';
import { sectionsHtml } from './sections.ts';
import { summaryHeader, summarySections } from './summary-sections.ts';
import { topologySvg } from './topology-svg.ts';
import { numberText } from '../core/number-text.ts';

/** What the charts are drawn from, and where they were thinned, said on the page. */
function sourceNotes(timeline: RunTimeline): string[] {
  if (timeline.source === 'report')
    return [
      "samples.ndjson is missing: the socket states are report.json's capped series (merged points keep their maxima); no counters, sockstat or load rates over time.",
    ];
  const n = (v: number) => numberText(v);
  return [
    ...Object.entries(timeline.bucketed).map(
      ([host, b]) =>
        `host ${host}: ${n(b.from)} samples drawn as ${n(b.to)} points, each the maximum of its ${Math.ceil(b.from / b.to)} samples (no peak lost).`,
    ),
    ...Object.entries(timeline.bucketedActors).map(
      ([actor, b]) =>
        `${actor}: ${n(b.from)} stats events thinned to ${n(b.to)}, so its rates are averages over ${Math.ceil(b.from / b.to)} times longer intervals (a short burst shows lower).`,
    ),
  ];
}

/** States per host first, then each load actor's rates and latency, then the counters: the story in reading order. */
export function reportCharts(report: Report, timeline: RunTimeline): ChartSpec[] {
  const hosts = Object.keys(report.hosts).flatMap((name) =>
    timeline.hosts[name] ? [[name, timeline.hosts[name]] as const] : [],
  );
  const actors = loadActors(report).flatMap(([name]) =>
    timeline.actors[name] ? [[name, timeline.actors[name]] as const] : [],
  );
  return [
    ...hosts.map(([name, h]) => hostStatesChart(report, name, h)),
    ...actors
      .flatMap(([name, a]) => [actorLoadChart(report, name, a), actorLatencyChart(name, a)])
      .filter((c) => c !== undefined),
    ...hosts.flatMap(([name, h]) => hostCountersChart(report, name, h) ?? []),
  ];
}

export function renderReportHtml(report: Report, timeline: RunTimeline): string {
  const [title, ...meta] = summaryHeader(report);
  const charts = reportCharts(report, timeline);
  const sections = summarySections(report);
  const first = sections.filter((s) => s.title === 'Findings' || s.title === 'Thresholds');
  const rest = sections.filter((s) => !first.includes(s));
  const notes = sourceNotes(timeline);
  const body = [
    `<h1 class="verdict-${escapeHtml(report.verdict)}">${escapeHtml(title!)}</h1>`,
    ...meta.map((l) => `<p class="meta">${escapeHtml(l)}</p>`),
    ...notes.map((l) => `<p class="note">${escapeHtml(l)}</p>`),
    `<div class="charts">${charts.map(chartFigure).join('')}</div>`,
    `<div class="findings">${sectionsHtml(first)}</div>`,
    `<h2>Topology</h2>${topologySvg(report.scenario.plan)}`,
    sectionsHtml(rest),
    `<p class="meta">report.json schema ${report.schemaVersion}.${report.schemaMinor ?? 0}; run of ${formatDuration(report.durationMs)}.</p>`,
  ];
  return htmlPage(title!, body.join('\n'), charts);
}

export const reportHtml: Output = {
  name: 'report-html',
  file: 'report.html',
  describe: 'the run at a glance: charts, topology and tables in one page that opens from disk',
  write: async (report, { samplesFile }) => renderReportHtml(report, await readRunTimeline(report, samplesFile)),
};
