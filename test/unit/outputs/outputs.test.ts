// Outputs on report fixtures from real runs: each reads only the report, and `writeOutputs` makes every
// registered file. Tables are checked cell by cell against the report's own numbers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OUTPUTS, writeOutputs } from '../../../src/outputs/registry.ts';
import { reportJson } from '../../../src/outputs/report-json.ts';
import { renderMarkdown } from '../../../src/outputs/summary-markdown.ts';
import { summarySections } from '../../../src/outputs/summary-sections.ts';
import { baselineOf, compareReports } from '../../../src/report/compare.ts';
import type { Report } from '../../../src/report/report.ts';
import { renderText } from '../../../src/outputs/terminal-summary.ts';
import { tempDir } from '../../helpers/temp-dir.ts';
import { loadReportFixture, n, reportFixtureNames } from '../fixture.ts';

/** The rows of the Markdown table under `## title`, as cells. */
function markdownTable(md: string, title: string): string[][] {
  const section = md.split(`## ${title}\n`)[1]?.split('\n## ')[0] ?? '';
  return section
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('|---'))
    .map((l) => l.slice(2, -2).split(' | '));
}

describe('summary.md', () => {
  const report = loadReportFixture('short-conn');
  const md = renderMarkdown(report);

  it('heads with the verdict and the environment the run had', () => {
    expect(md.split('\n')[0]).toBe(`# short-conn: ${report.verdict.toUpperCase()}`);
    expect(md).toContain(
      `kernel ${report.environment.kernel}, node ${report.environment.node}, driver ${report.environment.driver} as ${report.environment.privilege}`,
    );
  });

  it('heads a run that passed its thresholds but regressed against its baseline with the regression (it exits 5)', () => {
    const load = (name: string) =>
      JSON.parse(
        readFileSync(new URL(`../../fixtures/compare/proxy-keepalive-upstream.${name}.json`, import.meta.url), 'utf8'),
      ) as Report;
    const base = load('base');
    const worse = load('no-keepalive');
    const comparison = compareReports(baselineOf(base, 'base'), worse, 'worse');
    expect(comparison.verdict).toBe('regression');
    const regressed = { ...worse, verdict: 'pass' as const, comparison };
    expect(renderMarkdown(regressed).split('\n')[0]).toBe(
      '# proxy-keepalive-upstream: REGRESSION against the baseline (thresholds passed)',
    );
    expect(renderText(regressed)).not.toMatch(/: PASS/);
  });

  it("puts each load actor's figures in its row", () => {
    const [head, row] = markdownTable(md, 'Load');
    const flood = report.actors.flood!;
    if (flood.kind !== 'short-conn-client') throw new Error(`flood is a ${flood.kind}`);
    const cell = (name: string) => row![head!.indexOf(name)];
    expect(cell('attempts')).toBe(n(flood.attempts!));
    expect(cell('ok')).toBe(n(flood.ok!));
    expect(cell('errors')).toBe(n(flood.errorCount!));
    expect(cell('missed starts')).toBe(n(flood.missedStarts!));
    expect(cell('connected')).toBe(n(flood.connected!));
  });

  it('says under Load what a count counts where starts were missed', () => {
    const nat = loadReportFixture('nat-single-source');
    const c1 = nat.actors['from-c1'] as Record<string, any>;
    // The count is read from the plan's connection model (derived from the plan's options in a report made before it).
    const planned = nat.scenario.plan.actors['from-c1'] as unknown as Record<string, any>;
    planned['options'] = { ...planned['options'], count: c1['attempts'] + c1['missedStarts'] };
    const load = summarySections(nat).find((s) => s.title === 'Load')!;
    expect(load.bullets).toEqual([
      `from-c1: count ${n(c1['attempts'] + c1['missedStarts'])} counts scheduled starts, missed ones included: ${n(c1['attempts'])} attempted (${n(c1['connected'])} connected) + ${n(c1['missedStarts'])} missed.`,
    ]);
  });

  it('prints "does not apply" and the basis of every prediction, and no closer where nobody closes', () => {
    const text = renderMarkdown(loadReportFixture('short-conn--tw-reuse-1'));
    const rows = markdownTable(text, 'Predicted vs measured');
    expect(rows.find((r) => r[1]!.startsWith('first EADDRNOTAVAIL'))![2]).toBe('does not apply');
    expect(text).toContain(
      '- flood, first EADDRNOTAVAIL: does not apply: tcp_tw_reuse=1 lets connect() take over an entry once it is older than tcp_tw_reuse_delay (1,000 ms)',
    );
    const held = renderMarkdown(loadReportFixture('short-conn--held-open'));
    expect(markdownTable(held, 'Predicted vs measured').map((r) => r[1])).toContain(
      'peak TIME_WAIT on client (no end closes with a FIN answered by a FIN)',
    );
    expect(held).not.toContain('(client closes first)');
  });

  it("splits each host's TIME_WAIT peak as the sample that reached it did, so the parts add up", () => {
    const report = loadReportFixture('haproxy-short-upstream--mode-tcp');
    const proxy = report.hosts.proxy!;
    // Each role's own peak came from another sample: 1,001 + 805 is more than the 1,805 ever there at once.
    expect(proxy.peak.ephemeral.TIME_WAIT + proxy.peak.listen.TIME_WAIT).toBe(1806);
    proxy.peak.split = { TIME_WAIT: { listen: 805, ephemeral: 1000 } };
    const row = markdownTable(renderMarkdown(report), 'Socket states per host (peaks)').find((r) => r[0] === 'proxy')!;
    expect(row.slice(2, 5)).toEqual(['1,805', '1,000', '805']);
  });

  it('says when a sample is stamped', () => {
    expect(renderMarkdown(loadReportFixture('short-conn--held-open'))).toContain(
      'each sample stamped when its reads ended',
    );
  });

  it("shows every host's TIME_WAIT peak and every threshold with its value", () => {
    const rows = markdownTable(md, 'Socket states per host (peaks)');
    for (const [name, host] of Object.entries(report.hosts)) {
      expect(rows.find((r) => r[0] === name)?.[2]).toBe(n(host.peak.total.TIME_WAIT));
    }
    for (const t of report.thresholds)
      expect(md).toContain(
        `${t.ok ? 'ok  ' : 'FAIL'} ${t.expression} (value ${t.value!.toLocaleString('en-US', { maximumFractionDigits: 2 })}`,
      );
    for (const f of report.findings) expect(md).toContain(`- ${f}`);
  });

  it('says FAIL and names the failed threshold when one failed', () => {
    const failed = loadReportFixture('short-conn--tw-reuse-1');
    expect(failed.verdict).toBe('fail');
    const text = renderMarkdown(failed);
    expect(text.split('\n')[0]).toBe('# short-conn: FAIL');
    const bad = failed.thresholds.filter((t) => !t.ok);
    expect(bad.length).toBeGreaterThan(0);
    for (const t of bad) expect(text).toContain(`FAIL ${t.expression}`);
  });
});

describe('the terminal summary', () => {
  it('renders the same sections as summary.md, columns aligned', () => {
    const report = loadReportFixture('proxy-short-upstream');
    const text = renderText(report);
    for (const s of summarySections(report)) expect(text).toContain(`\n${s.title}\n`);
    const load = text.split('\nLoad\n')[1]!.split('\n\n')[0]!.split('\n');
    expect(new Set(load.map((l) => l.length)).size).toBe(1);
  });
});

describe('outputs on every fixture', () => {
  it('each output renders every captured report without throwing, and report.json round-trips', async () => {
    for (const name of reportFixtureNames()) {
      const report = loadReportFixture(name);
      for (const output of OUTPUTS)
        expect(
          (await output.write(report, { dir: '/nonexistent', samplesFile: '/nonexistent' })).length,
        ).toBeGreaterThan(0);
      expect(JSON.parse(await reportJson.write(report, { dir: '', samplesFile: '' }))).toEqual(report);
    }
  });

  it('writeOutputs writes one file per registered output into the run directory', async () => {
    const dir = tempDir();
    const written = await writeOutputs(loadReportFixture('short-conn'), dir);
    expect(written).toEqual(OUTPUTS.map((o) => join(dir, o.file)));
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toBe(renderMarkdown(loadReportFixture('short-conn')));
  });
});
