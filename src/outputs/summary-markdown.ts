// summary.md: the summary as Markdown, for CI step summaries and code review.
import type { Report } from '../report/report.ts';
import type { Output } from './output.ts';
import { sectionsMarkdown } from './sections.ts';
import { summaryHeader, summarySections } from './summary-sections.ts';

export function renderMarkdown(r: Report): string {
  return sectionsMarkdown(summaryHeader(r), summarySections(r));
}

export const summaryMarkdown: Output = {
  name: 'summary-md',
  file: 'summary.md',
  describe: 'the summary as Markdown',
  write: (report) => renderMarkdown(report),
};
