// Issue 22 item 5: a status outside an actor's expect set is an error of that actor everywhere a failure shows,
// checked on a real run (proxy-short-upstream: nginx out of upstream ports answered 1,000 of 2,000 requests 502;
// test/fixtures/reports/README.md) and on the flood's own stats events of that run.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { metricOf } from '../../../src/core/metric-paths.ts';
import { comparisonCharts } from '../../../src/outputs/comparison-html.ts';
import { matrixMarkdown } from '../../../src/outputs/matrix-summary.ts';
import { reportCharts, renderReportHtml } from '../../../src/outputs/report-html.ts';
import { readRunTimeline } from '../../../src/outputs/run-timeline.ts';
import { renderMarkdown } from '../../../src/outputs/summary-markdown.ts';
import { summarySections } from '../../../src/outputs/summary-sections.ts';
import { renderText } from '../../../src/outputs/terminal-summary.ts';
import { summarizeBaseline } from '../../../src/report/baseline.ts';
import { baselineOf, compareReports, reportMetrics } from '../../../src/report/compare.ts';
import { compareRuns, matrixRun } from '../../../src/report/matrix.ts';
import type { Report } from '../../../src/report/report.ts';
import { loadReportFixture, n } from '../fixture.ts';

const STATS = fileURLToPath(
  new URL('../../fixtures/runs/proxy-short-upstream--http-502.stats.ndjson', import.meta.url),
);
const flood = (r: Report) =>
  r.actors['flood'] as unknown as {
    attempts: number;
    ok: number;
    errorCount: number;
    errors: Record<string, { count: number; firstAtMs: number }>;
    startedAtMs: number;
    statuses: Record<string, number>;
  };

/** The same run with no 502: every response a 200 (the baseline a regression is found against). */
function without502(): Report {
  const r = loadReportFixture('proxy-short-upstream--http-502');
  const f = flood(r);
  Object.assign(f, { ok: f.attempts, errorCount: 0, errors: {}, firstError: null, statuses: { 200: f.attempts } });
  return r;
}

describe('HTTP 502 as an error of the client that got it', () => {
  const report = loadReportFixture('proxy-short-upstream--http-502');
  const f = flood(report);

  it('the run: 1,000 of 2,000 requests answered 502, counted as HTTP_502 and not as ok', () => {
    expect(f.statuses).toEqual({ 200: 1000, 502: 1000 });
    expect(f.errors['HTTP_502']!.count).toBe(1000);
    expect(f.ok + f.errorCount).toBe(f.attempts);
  });

  it('Load and Errors tables, in the terminal and summary.md', () => {
    const sections = summarySections(report);
    const load = sections.find((s) => s.title === 'Load')!;
    const row = load.rows!.find((r) => r[0] === 'flood')!;
    expect(row[load.head!.indexOf('ok')]).toBe(n(1000));
    expect(row[load.head!.indexOf('errors')]).toBe(n(1000));
    const errors = sections.find((s) => s.title === 'Errors')!;
    expect(errors.rows).toEqual([['flood', 'HTTP_502', 'response', n(1000), expect.stringMatching(/s$/)]]);
    expect(renderText(report)).toMatch(/flood\s+HTTP_502\s+response\s+1,000/);
    expect(renderMarkdown(report)).toContain('| flood | HTTP_502 | response | 1,000 |');
  });

  it('report.html: the first failure marked, and HTTP_502 per second is not flat', async () => {
    const timeline = await readRunTimeline(report, STATS);
    const charts = reportCharts(report, timeline);
    const load = charts.find((c) => c.id === 'actor--flood--load')!;
    const series = load.series.find((s) => s.label === 'HTTP_502 /s')!;
    expect(Math.max(...series.values.map((v) => v ?? 0))).toBeGreaterThan(100);
    expect(load.marks.map((m) => m.label)).toContain('flood: first HTTP_502');
    expect(renderReportHtml(report, timeline)).toContain('flood: first HTTP_502');
  });

  it('a comparison: HTTP_502 once in the errors column, the first failure beside it, errors per second not flat', async () => {
    const base = without502();
    const runs = [matrixRun(base, 'no-502', '01', {}), matrixRun(report, '502', '02', {})];
    expect(runs[1]!.errors).toEqual({ HTTP_502: 1000, 'proxy no free port': 1000 });
    expect(runs[1]!.firstFailureCode).toBe('HTTP_502');
    expect(runs[1]!.firstFailureMs).toBe(Math.round(f.errors['HTTP_502']!.firstAtMs - f.startedAtMs));
    const md = matrixMarkdown(compareRuns('proxy-short-upstream', runs, null, {}));
    expect(md).toContain('| HTTP_502 1,000, proxy no free port 1,000 | HTTP_502 at ');
    expect(md).not.toContain('HTTP 502');
    expect(md).toContain('502 raised HTTP_502 from 0 to 1,000.');
    const timeline = await readRunTimeline(report, STATS);
    const [errorsChart] = comparisonCharts([{ label: '502', report, timeline }]).filter(
      (c) => c.id === 'cmp--actor--flood--errors',
    );
    expect(Math.max(...errorsChart!.series[0]!.values.map((v) => v ?? 0))).toBeGreaterThan(100);
    expect(errorsChart!.marks.map((m) => m.label)).toEqual(['502: first HTTP_502']);
  });

  it('compare and baselines: actors.flood.errors.HTTP_502.count is a registry metric, a regression from a baseline without it', () => {
    expect(metricOf('actors.flood.errors.HTTP_502.count')?.label).toBe('errors by code');
    expect(reportMetrics(report)['actors.flood.errors.HTTP_502.count']).toBe(1000);
    const c = compareReports(baselineOf(without502(), 'base'), report, 'current');
    const m = c.metrics.find((x) => x.path === 'actors.flood.errors.HTTP_502.count')!;
    expect(m).toMatchObject({ baseline: 0, current: 1000, verdict: 'regression' });
    // A baseline of runs of which one saw 502s keeps the code, 0 in the other.
    const b = summarizeBaseline([without502(), report], ['a', 'b']);
    expect(b.min['actors.flood.errors.HTTP_502.count']).toBe(0);
    expect(b.max['actors.flood.errors.HTTP_502.count']).toBe(1000);
  });

  it("a proxy's own losses are metrics of the registry too: errorLog causes and HAProxy termination states", () => {
    expect(metricOf('actors.proxy.errorLog.causes.portsExhausted')).toMatchObject({
      worse: 'rise',
      tolerance: '10%',
      baseline: true,
    });
    expect(reportMetrics(report)['actors.proxy.errorLog.causes.portsExhausted']).toBe(1000);
    expect(metricOf('actors.proxy.terminations.sQ--/503')).toMatchObject({ worse: 'rise', seenOnly: true });
  });
});
