// report.html, comparison.html and summary.md's chart on a real run's report.json and samples.ndjson
// (test/fixtures/runs): the series each chart holds against the samples, bucketing that keeps every peak,
// the fallback to report.json's series, and escaping of every string a scenario controls. The drawing itself
// is tested in Chromium (test/lab/report-html.test.ts).
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderCompareHtml, renderComparisonHtml } from '../../../src/outputs/comparison-html.ts';
import { actorLoadChart, hostStatesChart, overlay, perSecond } from '../../../src/outputs/chart-specs.ts';
import { escapeHtml, jsonForScript } from '../../../src/outputs/html-escape.ts';
import { renderReportHtml, reportCharts } from '../../../src/outputs/report-html.ts';
import { readRunTimeline } from '../../../src/outputs/run-timeline.ts';
import { renderMarkdown } from '../../../src/outputs/summary-markdown.ts';
import { sliceMaxima, timeWaitChartSection, MERMAID_POINTS } from '../../../src/outputs/time-wait-mermaid.ts';
import { topologySvg } from '../../../src/outputs/topology-svg.ts';
import { compareRuns, matrixRun } from '../../../src/report/matrix.ts';
import { baselineRunDirs } from '../../../src/report/report-file.ts';
import type { Report } from '../../../src/report/report.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const RUN = new URL('../../fixtures/runs/', import.meta.url);
const SAMPLES = new URL('short-conn.samples.ndjson', RUN).pathname;
const loadReport = () => JSON.parse(readFileSync(new URL('short-conn.report.json', RUN), 'utf8')) as Report;
const events = readFileSync(SAMPLES, 'utf8')
  .trim()
  .split('\n')
  .map(
    (l) =>
      JSON.parse(l) as {
        type: string;
        host?: string;
        actor?: string;
        t: number;
        tcp?: any;
        sockstat?: any;
        stats?: any;
      },
  );
const samplesOf = (host: string) =>
  events.filter((e) => e.type === 'sample' && e.host === host && (e as { tcp?: unknown }).tcp !== undefined);

/** The JSON of a page's data block, as the page reads it. */
function pageData(html: string): { charts: { id: string; title: string }[] } {
  const open = '<script type="application/json" id="waitlab-data">';
  return JSON.parse(html.slice(html.indexOf(open) + open.length, html.indexOf('</script>', html.indexOf(open))));
}

describe('the run timeline read from samples.ndjson', () => {
  it('holds every sample of each host and every stats event of the flood, at full resolution', async () => {
    const report = loadReport();
    const timeline = await readRunTimeline(report, SAMPLES);
    expect(timeline.source).toBe('samples');
    for (const host of ['client', 'server']) {
      const samples = samplesOf(host);
      const h = timeline.hosts[host]!;
      expect(h.t).toEqual(samples.map((s) => s.t));
      expect(h.sockstatTw).toEqual(samples.map((s) => s.sockstat.tw));
      for (const [state, column] of Object.entries(h.states))
        expect(column, `${host} ${state}`).toEqual(samples.map((s) => s.tcp.total[state] ?? 0));
      expect(Math.max(...(h.states.TIME_WAIT ?? [0]))).toBe(report.hosts[host]!.peak.total.TIME_WAIT);
    }
    const stats = events.filter((e) => e.type === 'stats' && e.actor === 'flood');
    expect(timeline.actors['flood']!.ok).toEqual(stats.map((e) => e.stats.ok));
    expect(timeline.actors['flood']!.errors['EADDRNOTAVAIL']).toEqual(
      stats.map((e) => e.stats.errors.EADDRNOTAVAIL?.count ?? 0),
    );
    expect(timeline.bucketed).toEqual({});
  });

  it('buckets a long series to the cap, each point the maximum of its bucket, and the page says so', async () => {
    const report = loadReport();
    const timeline = await readRunTimeline(report, SAMPLES, 10);
    const client = timeline.hosts['client']!;
    expect(client.t.length).toBeLessThanOrEqual(10);
    expect(Math.max(...client.states.TIME_WAIT!)).toBe(report.hosts['client']!.peak.total.TIME_WAIT);
    expect(Math.max(...client.sockstatTw)).toBe(report.hosts['client']!.peak.sockstatTw);
    expect(timeline.bucketed['client']).toEqual({ from: samplesOf('client').length, to: client.t.length });
    expect(renderReportHtml(report, timeline)).toContain(
      `host client: ${samplesOf('client').length} samples drawn as ${client.t.length} points`,
    );
    // Stats events are cumulative: thinning keeps each bucket's last, and the rates between them are averages, said so.
    const stats = events.filter((e) => e.type === 'stats' && e.actor === 'flood');
    expect(timeline.actors['flood']!.ok).toEqual(
      stats.filter((_, i) => (i + 1) % 2 === 0 || i === stats.length - 1).map((e) => e.stats.ok),
    );
    expect(timeline.bucketedActors['flood']).toEqual({ from: stats.length, to: timeline.actors['flood']!.t.length });
    expect(renderReportHtml(report, timeline)).toContain(
      `flood: ${stats.length} stats events thinned to ${timeline.actors['flood']!.t.length}, so its rates are averages`,
    );
  });

  it("falls back to report.json's capped series where samples.ndjson is gone, and says so", async () => {
    const report = loadReport();
    const timeline = await readRunTimeline(report, '/nonexistent/samples.ndjson');
    expect(timeline.source).toBe('report');
    expect(timeline.hosts['client']!.states.TIME_WAIT).toEqual(report.hosts['client']!.series.states.TIME_WAIT);
    expect(renderReportHtml(report, timeline)).toContain('samples.ndjson is missing');
  });
});

describe('the charts of report.html', () => {
  it("stacks the client's states from TIME_WAIT up, under its port budget, with the first failure and its prediction", async () => {
    const report = loadReport();
    const timeline = await readRunTimeline(report, SAMPLES);
    const chart = hostStatesChart(report, 'client', timeline.hosts['client']!);
    expect(chart.series[0]).toMatchObject({ label: 'TIME_WAIT', stack: true });
    expect(chart.series.at(-1)).toMatchObject({ label: 'sockstat tw', dash: true });
    expect(chart.levels.map((l) => l.y)).toEqual([1000]);
    const flood = report.actors['flood'] as { firstError: { atMs: number }; startedAtMs: number };
    expect(chart.marks.map((m) => m.x)).toEqual([
      Math.round(flood.firstError.atMs) / 1000,
      Math.round(flood.startedAtMs + report.predictions['flood']!.exhaustion!.predictedMs!) / 1000,
    ]);
    // The server accepts only: no budget of its own to run out of.
    expect(hostStatesChart(report, 'server', timeline.hosts['server']!).levels).toEqual([]);
  });

  it("turns the flood's cumulative stats into rates per second, errors by code", async () => {
    expect(perSecond([1000, 1500, 2500], [100, 250, 250], 500)).toEqual([200, 300, 0]);
    expect(perSecond([1000], [5], undefined)).toEqual([null]);
    const report = loadReport();
    const chart = actorLoadChart(report, 'flood', (await readRunTimeline(report, SAMPLES)).actors['flood']!);
    expect(chart.series.map((s) => s.label)).toEqual(['attempts /s', 'ok /s', 'EADDRNOTAVAIL /s']);
    expect(Math.max(...(chart.series[2]!.values as number[]))).toBeGreaterThan(250);
  });

  it("lays out states per host, then each load actor's rates and latency, then the counters that moved", async () => {
    const report = loadReport();
    const ids = reportCharts(report, await readRunTimeline(report, SAMPLES)).map((c) => c.id);
    expect(ids).toEqual([
      'host--client--states',
      'host--server--states',
      'actor--flood--load',
      'actor--flood--latency',
      'host--client--counters',
    ]);
  });

  it('overlays runs on the union of their times, null where a run has no point', () => {
    const { x, series } = overlay([
      { label: 'a', x: [1, 2], values: [10, 20] },
      { label: 'b', x: [1.5, 2], values: [5, 6] },
    ]);
    expect(x).toEqual([1, 1.5, 2]);
    expect(series.map((s) => s.values)).toEqual([
      [10, null, 20],
      [null, 5, 6],
    ]);
  });
});

describe('strings a scenario controls, in HTML', () => {
  const hostile = '</script><script>window.pwned=1</script><img src=x onerror=alert(1)>';

  it('escapes text and keeps a data block whole whatever it holds', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(jsonForScript({ v: hostile })).not.toContain('<');
    expect(JSON.parse(jsonForScript({ v: hostile }))).toEqual({ v: hostile });
  });

  it('a host named with markup, a hostile finding, description and sysctl value reach the page as text only', async () => {
    const dir = tempDir();
    // "server" renamed everywhere it is a name or a value (hosts, actors' hosts, samples), as a scenario could.
    const rename = (text: string) => text.replaceAll('"server"', JSON.stringify('<i>server</i>'));
    const report = JSON.parse(rename(readFileSync(new URL('short-conn.report.json', RUN), 'utf8'))) as Report;
    writeFileSync(join(dir, 'samples.ndjson'), rename(readFileSync(SAMPLES, 'utf8')));
    report.findings.push(hostile);
    report.scenario.description = hostile;
    report.hosts['client']!.sysctls['net.ipv4.tcp_tw_reuse'] = '"><svg onload=alert(1)>';
    const html = renderReportHtml(report, await readRunTimeline(report, join(dir, 'samples.ndjson')));
    expect(html).not.toContain('<i>server');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<script>window.pwned');
    expect(html).not.toContain('<svg onload');
    expect(html).toContain('&lt;i&gt;server&lt;/i&gt;');
    expect(html).toContain(escapeHtml(hostile));
    // Only the page's own three scripts: the data block, uPlot and the drawing script.
    expect(html.match(/<script/g)).toHaveLength(3);
    expect(pageData(html).charts.map((c) => c.title)).toContain('Socket states on host <i>server</i> (stacked)');
  });

  it('draws the topology with every name escaped', () => {
    const report = loadReport();
    const svg = topologySvg(report.scenario.plan);
    for (const text of [
      '>client<',
      '>server<',
      '>198.18.0.1<',
      '>198.18.0.2<',
      '>flood → web<',
      '>web: http-server :8080<',
    ])
      expect(svg).toContain(text);
    const renamed = JSON.parse(JSON.stringify(report.scenario.plan).replaceAll('"server"', '"<b>x</b>"'));
    expect(topologySvg(renamed)).not.toContain('<b>');
  });
});

describe("summary.md's TIME_WAIT chart", () => {
  it('slices a series into equal time slices, each its maximum, an empty slice holding the one before', () => {
    expect(sliceMaxima([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [0, 5, 3, 9, 2, 2, 8, 1, 1, 7, 7], 5)).toEqual({
      end: [2, 4, 6, 8, 10],
      max: [5, 9, 2, 8, 7],
    });
    expect(sliceMaxima([0, 1, 2, 3, 10, 10.5], [1, 2, 3, 4, 5, 6], 5).max).toEqual([3, 4, 4, 4, 6]);
    expect(sliceMaxima([0, 1, 10], [1, 2, 3], 5).max).toHaveLength(3);
  });

  it("draws the busiest host's TIME_WAIT with its port budget, as a Mermaid xychart in summary.md", () => {
    const report = loadReport();
    const section = timeWaitChartSection(report)!;
    const lines = section.code!.text.split('\n');
    expect(lines[0]).toBe('xychart-beta');
    const series = lines
      .filter((l) => l.trim().startsWith('line ['))
      .map((l) => l.trim().slice('line ['.length, -1).split(', ').map(Number));
    expect(series).toHaveLength(2);
    expect(series[0]).toHaveLength(MERMAID_POINTS);
    expect(Math.max(...series[0]!)).toBe(report.hosts['client']!.peak.total.TIME_WAIT);
    expect(new Set(series[1])).toEqual(new Set([1000]));
    expect(section.code!.text).toContain('title "TIME_WAIT on host client (peak 1,000)"');
    const md = renderMarkdown(report);
    expect(md).toContain('## TIME_WAIT over time\n\n```mermaid\nxychart-beta\n');
  });

  it('has no chart where no host held TIME_WAIT', () => {
    const report = loadReport();
    for (const h of Object.values(report.hosts)) h.peak.total.TIME_WAIT = 0;
    expect(timeWaitChartSection(report)).toBeUndefined();
    expect(renderMarkdown(report)).not.toContain('mermaid');
  });
});

describe('comparison.html', () => {
  it("overlays the runs from their own directories (one without samples.ndjson: its report's series) and links to their pages", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, '01-a'));
    copyFileSync(SAMPLES, join(dir, '01-a', 'samples.ndjson'));
    const report = loadReport();
    const comparison = compareRuns(
      'short-conn',
      [matrixRun(report, 'a', '01-a', {}), matrixRun(report, 'b', '02-b', {})],
      null,
      {},
    );
    const html = await renderComparisonHtml(comparison, dir, [report, report]);
    expect(pageData(html).charts.map((c) => c.id)).toEqual([
      'cmp--host--client--time-wait',
      'cmp--actor--flood--ok',
      'cmp--actor--flood--errors',
    ]);
    expect(html).toContain('<a href="01-a/report.html">a</a>');
  });
});

describe('compare.html', () => {
  it("draws the current run alone, and says why, where the baseline's runs are gone", async () => {
    const report = loadReport();
    const dir = tempDir();
    copyFileSync(SAMPLES, join(dir, 'samples.ndjson'));
    const comparison = {
      baseline: { label: 'b', scenario: 'short-conn', kernel: 'k', params: {} },
      current: { label: 'c', scenario: 'short-conn', kernel: 'k', params: {} },
      warnings: [],
      metrics: [],
      regressions: 0,
      verdict: 'pass' as const,
    };
    const html = await renderCompareHtml(comparison, [], { label: 'current', report, dir });
    expect(html).toContain("The baseline's runs are not on disk");
    expect(pageData(html).charts.map((c) => c.id)).toContain('cmp--host--client--time-wait');
  });
});

describe('the runs behind a baseline, for compare.html', () => {
  it('are the runs baseline.json lists that are still on disk, or the run itself', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'run-1'));
    copyFileSync(new URL('short-conn.report.json', RUN), join(dir, 'run-1', 'report.json'));
    writeFileSync(
      join(dir, 'baseline.json'),
      JSON.stringify({ kind: 'waitlab-baseline', schemaVersion: 1, runs: ['run-1', 'run-2'], metrics: {} }),
    );
    expect(baselineRunDirs(dir)).toEqual([join(dir, 'run-1')]);
    expect(baselineRunDirs(join(dir, 'baseline.json'))).toEqual([join(dir, 'run-1')]);
    expect(baselineRunDirs(join(dir, 'run-1'))).toEqual([join(dir, 'run-1')]);
    expect(baselineRunDirs(join(dir, 'run-1', 'report.json'))).toEqual([join(dir, 'run-1')]);
  });
});
