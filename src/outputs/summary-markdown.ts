// summary.md: the summary as Markdown, for CI step summaries and code review.
import type { Report } from '../report/report.ts';
import type { Output } from './output.ts';
import { summaryHeader, summarySections } from './summary-sections.ts';

export function renderMarkdown(r: Report): string {
  const [title, ...rest] = summaryHeader(r);
  const out = [`# ${title}`, '', ...rest.map((l) => `${l}  `), ''];
  for (const s of summarySections(r)) {
    out.push(`## ${s.title}`, '');
    if (s.head && s.rows) {
      out.push(`| ${s.head.join(' | ')} |`, `|${s.head.map(() => '---').join('|')}|`, ...s.rows.map((row) => `| ${row.join(' | ')} |`), '');
    }
    if (s.bullets) out.push(...s.bullets.map((b) => `- ${b}`), '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

export const summaryMarkdown: Output = {
  name: 'summary-md',
  file: 'summary.md',
  describe: 'the summary as Markdown',
  write: (report) => renderMarkdown(report),
};
