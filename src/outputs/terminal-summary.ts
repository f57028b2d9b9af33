// The summary for a terminal: aligned columns, printed on stderr at the end of a run and by `waitlab report`. A host
// scaled to many replicas shows its first few (fold-replicas.ts); summary.md keeps them all.
import type { Report } from '../report/report.ts';
import { foldReplicas } from './fold-replicas.ts';
import { sectionsText } from './sections.ts';
import { summaryHeader, summarySections } from './summary-sections.ts';

export function renderText(r: Report): string {
  return sectionsText(summaryHeader(r), foldReplicas(r, summarySections(r)));
}
