// Issue 20, defect 6: strings of a report.json or a baseline (which anyone may hand to `waitlab report` or
// `compare`) reach summary.md, compare.md, comparison.md, the CI step summary and the stderr of a CI runner
// that obeys workflow commands. They must show as written there: no HTML, no heading or table row of their
// own making, and no line that starts with them.
import { describe, expect, it } from 'vitest';
import { terminalSafe } from '../../../src/core/terminal-text.ts';
import { comparisonMarkdown, comparisonText } from '../../../src/outputs/comparison-markdown.ts';
import { markdownInline, markdownLineStart } from '../../../src/outputs/markdown-escape.ts';
import { matrixMarkdown, matrixText } from '../../../src/outputs/matrix-summary.ts';
import { renderMarkdown } from '../../../src/outputs/summary-markdown.ts';
import { renderText } from '../../../src/outputs/terminal-summary.ts';
import { baselineOf, compareReports } from '../../../src/report/compare.ts';
import { compareRuns, matrixRun } from '../../../src/report/matrix.ts';
import type { Report } from '../../../src/report/report.ts';
import { loadReportFixture } from '../fixture.ts';

const STOP = '\n::stop-commands::x\n';
const FORGED = 'x\n# short-conn: PASS\n| a | b |';
const IMAGE = '<img src="https://example.invalid/p.png">';

/** A real report with hostile strings where a report file may hold any: the scenario, a host, a sysctl, a finding. */
function hostileReport(): Report {
  const r = structuredClone(loadReportFixture('short-conn'));
  const host = Object.keys(r.hosts)[0]!;
  const sysctl = Object.keys(r.hosts[host]!.sysctls)[0]!;
  return {
    ...r,
    scenario: { ...r.scenario, description: `# FAKE: PASS ${IMAGE}`, name: `::warning::forged${STOP}` },
    environment: { ...r.environment, kernel: `6.1${STOP}##[error]forged` },
    hosts: {
      ...r.hosts,
      [host]: { ...r.hosts[host]!, sysctls: { ...r.hosts[host]!.sysctls, [sysctl]: `1 | 2${FORGED}` } },
    },
    findings: [...r.findings, FORGED, `- [click](javascript:alert(1)) ${IMAGE}`],
  };
}

/** Workflow commands GitHub's runner obeys: "::" after leading space, "##[" anywhere in a line. */
function commandLines(text: string): string[] {
  return text.split('\n').filter((l) => l.trimStart().startsWith('::') || l.includes('##['));
}

describe('terminalSafe (one field on a terminal or in a CI log)', () => {
  it('shows control characters as escapes, never as a line break or a sequence', () => {
    expect(terminalSafe('\x1b]0;PWNED\x07')).toBe('\\e]0;PWNED\\x07');
    expect(terminalSafe('a\nb\r\tc')).toBe('a\\nb\\r\\tc');
    expect(terminalSafe('\u009b2J\u007f\u2028\u202e')).toBe('\\x9b2J\\x7f\\u2028\\u202e');
    expect(terminalSafe('python3 -m http.server')).toBe('python3 -m http.server');
  });

  it('never lets a field start a workflow command', () => {
    expect(terminalSafe('::stop-commands::x')).toBe('\\x3a:stop-commands::x');
    expect(terminalSafe('  :')).toBe('  \\x3a');
    expect(terminalSafe('a ##[error]b')).toBe('a ##\\x5berror]b');
    expect(terminalSafe('198.18.0.2:8080')).toBe('198.18.0.2:8080');
  });
});

describe('issue 20 defect 6: Markdown and workflow-command injection', () => {
  const report = hostileReport();

  it('summary.md (and so the step summary): no raw HTML, no forged heading, every table row keeps its cells', () => {
    const md = renderMarkdown(report);
    expect(md).not.toMatch(/(^|[^\\])<img/m);
    expect(md).not.toMatch(/[^\\]\]\(javascript/);
    expect(md).toContain('\\<img src="https://example.invalid/p.png">');
    // The only headings are the summary's own: its title and one per section.
    const headings = md.split('\n').filter((l) => /^\s{0,3}#/.test(l));
    // Its backslashes doubled: in Markdown "\\x3a" shows as the escape \x3a.
    expect(headings[0]).toBe(`# \\\\x3a:warning::forged\\\\n::stop-commands::x\\\\n: ${report.verdict.toUpperCase()}`);
    expect(headings.slice(1).every((h) => h.startsWith('## '))).toBe(true);
    expect(md).not.toMatch(/^(\s*[-*+] )?\s*# (FAKE|short-conn: PASS)/m);
    // A table row has as many unescaped "|" as its header row.
    for (const table of md.split('\n\n').filter((b) => b.startsWith('| '))) {
      const pipes = table.split('\n').map((l) => l.replaceAll('\\|', '').split('|').length);
      expect(new Set(pipes).size).toBe(1);
    }
    expect(commandLines(md)).toEqual([]);
  });

  it("the terminal summary of `waitlab report`: no line begins with the report's text or carries ##[", () => {
    const text = renderText(report);
    expect(commandLines(text)).toEqual([]);
    expect(text).not.toMatch(/^# short-conn: PASS/m);
    expect(text).toContain('kernel 6.1\\n::stop-commands::x\\n##\\x5berror]forged');
  });

  it('compare: a baseline whose identity.kernel holds "\\n::stop-commands::x\\n" is shown, never obeyed', () => {
    const base = baselineOf(loadReportFixture('short-conn'), 'base');
    const baseline = { ...base, identity: { ...base.identity, kernel: `6.1${STOP}`, label: `::error::${IMAGE}` } };
    const comparison = compareReports(baseline, loadReportFixture('short-conn'), `run${STOP}`);
    expect(comparison.warnings.join('\n')).toContain(STOP);
    const text = comparisonText(comparison);
    expect(commandLines(text)).toEqual([]);
    expect(text).toContain('the baseline ran on 6.1\\n::stop-commands::x\\n');
    const md = comparisonMarkdown(comparison);
    expect(commandLines(md)).toEqual([]);
    expect(md).not.toMatch(/(^|[^\\])<img/m);
  });

  it('comparison.md of profiles and sweeps: run labels and findings escaped the same way', () => {
    const r = loadReportFixture('short-conn');
    const comparison = compareRuns(
      'short-conn',
      [matrixRun(r, `a${STOP}`, `01${IMAGE}`, {}), matrixRun(r, '::b', '02', {})],
      null,
      {},
    );
    expect(commandLines(matrixText(comparison))).toEqual([]);
    const md = matrixMarkdown(comparison);
    expect(commandLines(md)).toEqual([]);
    expect(md).not.toMatch(/(^|[^\\])<img/m);
  });

  it('keeps ordinary text readable: state and sysctl names, comparisons, addresses', () => {
    expect(markdownInline('TIME_WAIT on 198.18.0.2:8080, tcp_tw_reuse >= 1, ratio <= 1.2')).toBe(
      'TIME_WAIT on 198.18.0.2:8080, tcp_tw_reuse >= 1, ratio <= 1.2',
    );
    expect(markdownLineStart('- 1. # x')).toBe('\\- 1. # x');
    expect(markdownLineStart('12) x')).toBe('12\\) x');
    expect(markdownInline('a|b [l](u) `c` *e* ~s~ &amp;')).toBe('a\\|b \\[l\\](u) \\`c\\` \\*e\\* \\~s\\~ \\&amp;');
  });
});
