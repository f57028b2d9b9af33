// summary.md: the summary as Markdown, for CI step summaries and code review.
import type { Report } from '../report/report.ts';
import type { Output } from './output.ts';
import { sectionsMarkdown } from './sections.ts';
import { summaryHeader, summarySections } from './summary-sections.ts';
import { timeWaitChartSection } from './time-wait-mermaid.ts';

/** The summary's sections, after a chart of the busiest host's TIME_WAIT where one had any. */
export function renderMarkdown(r: Report): string {
  const chart = timeWaitChartSection(r);
  return sectionsMarkdown(summaryHeader(r), [...(chart ? [chart] : []), ...summarySections(r)]);
}

export const summaryMarkdown: Output = {
  name: 'summary-md',
  file: 'summary.md',
  describe: 'the summary as Markdown',
  write: (report) => renderMarkdown(report),
};
