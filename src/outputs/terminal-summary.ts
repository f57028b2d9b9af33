// The summary for a terminal: aligned columns, printed on stderr at the end of a run and by `waitlab report`.
import type { Report } from '../report/report.ts';
import { summaryHeader, summarySections } from './summary-sections.ts';

export function renderText(r: Report): string {
  const out = [...summaryHeader(r), ''];
  for (const s of summarySections(r)) {
    out.push(s.title);
    if (s.head && s.rows) {
      const widths = s.head.map((h, i) => Math.max(h.length, ...s.rows!.map((row) => row[i]!.length)));
      const line = (cells: string[]) => `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`;
      out.push(line(s.head), ...s.rows.map(line));
    }
    if (s.bullets) out.push(...s.bullets.map((b) => `  - ${b}`));
    out.push('');
  }
  return out.join('\n');
}
