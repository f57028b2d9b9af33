// The summary for a terminal: aligned columns, printed on stderr at the end of a run and by `waitlab report`.
import type { Report } from '../report/report.ts';
import { sectionsText } from './sections.ts';
import { summaryHeader, summarySections } from './summary-sections.ts';

export function renderText(r: Report): string {
  return sectionsText(summaryHeader(r), summarySections(r));
}
