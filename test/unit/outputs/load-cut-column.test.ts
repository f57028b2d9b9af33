// The Load table's count of connections cut at the end of the load, in the terminal summary and summary.md, read
// from the report alone: the flood's own number where it has one, "-" where a report has none (an older report, or
// a load actor that does not count it).
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../../src/outputs/summary-markdown.ts';
import { summarySections } from '../../../src/outputs/summary-sections.ts';
import { renderText } from '../../../src/outputs/terminal-summary.ts';
import type { Report } from '../../../src/report/report.ts';
import { loadReportFixture, n } from '../fixture.ts';

const COLUMN = 'cut at the end of the load';

function withCut(cut: number): Report {
  const report = loadReportFixture('short-conn');
  (report.actors.flood as Record<string, unknown>)['cutAtLoadEnd'] = cut;
  return report;
}

const loadCell = (report: Report) => {
  const load = summarySections(report).find((s) => s.title === 'Load')!;
  return load.rows![0]![load.head!.indexOf(COLUMN)];
};

describe('Load table: cut at the end of the load', () => {
  it("shows the flood's count of connections cut when its load ended", () => {
    expect(loadCell(withCut(1234))).toBe(n(1234));
  });

  it('shows "-" for a report without the count', () => {
    expect(loadCell(loadReportFixture('short-conn'))).toBe('-');
  });

  it('reaches summary.md and the terminal summary', () => {
    const report = withCut(1234);
    const md = renderMarkdown(report);
    const section = md.split('## Load\n')[1]!.split('\n## ')[0]!;
    const [head, row] = section
      .split('\n')
      .filter((l) => l.startsWith('| ') && !l.startsWith('|---'))
      .map((l) => l.slice(2, -2).split(' | '));
    expect(row![head!.indexOf(COLUMN)]).toBe(n(1234));
    const text = renderText(report);
    expect(text).toContain(COLUMN);
    expect(text).toContain(n(1234));
  });
});
