// A summary is a header and a list of sections (tables and bullets); these render one for a terminal or as
// Markdown, so every summary (a run's, a comparison's) reads the same in both (and in HTML pages).
import { terminalSafe } from '../core/terminal-text.ts';
import { escapeHtml } from './html-escape.ts';
import { markdownInline, markdownLineStart } from './markdown-escape.ts';

export interface Section {
  title: string;
  head?: string[];
  rows?: string[][];
  bullets?: string[];
  /** A fenced block (a Mermaid chart): summary.md only; the terminal and HTML pages draw their own. */
  code?: { lang: string; text: string };
}

/** Markdown: the first header line as the title, the rest as lines under it; every string escaped, none a line of its own making. */
export function sectionsMarkdown(header: readonly string[], sections: readonly Section[]): string {
  const [title = '', ...rest] = header;
  const out = [`# ${markdownInline(title)}`, '', ...rest.map((l) => `${markdownLineStart(l)}  `), ''];
  for (const s of sections) {
    out.push(`## ${markdownInline(s.title)}`, '');
    if (s.head && s.rows) {
      const row = (cells: readonly string[]) => `| ${cells.map(markdownInline).join(' | ')} |`;
      out.push(row(s.head), `|${s.head.map(() => '---').join('|')}|`, ...s.rows.map(row), '');
    }
    // The fence's text is made by the chart's own module, which quotes what it takes from the report.
    if (s.code) out.push(`\`\`\`${s.code.lang}`, s.code.text, '```', '');
    if (s.bullets) out.push(...s.bullets.map((b) => `- ${markdownLineStart(b)}`), '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** Aligned columns for a terminal (or a CI log): the first column left-aligned, the others right-aligned; every string escaped. */
export function sectionsText(header: readonly string[], sections: readonly Section[]): string {
  const out = [...header.map(terminalSafe), ''];
  for (const s of sections) {
    out.push(terminalSafe(s.title));
    if (s.head && s.rows) {
      const [head, ...rows] = [s.head, ...s.rows].map((cells) => cells.map(terminalSafe));
      const widths = head!.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
      const line = (cells: string[]) =>
        `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`;
      out.push(line(head!), ...rows.map(line));
    }
    if (s.bullets) out.push(...s.bullets.map((b) => `  - ${terminalSafe(b)}`));
    out.push('');
  }
  return out.join('\n');
}

/** HTML: a heading, a table and a list per section, every cell escaped; numeric cells right-aligned. */
export function sectionsHtml(sections: readonly Section[]): string {
  const numeric = /^[-+]?[\d,.]+( ?(%|s|ms))?$/;
  const td = (c: string) => `<td${numeric.test(c) ? ' class="num"' : ''}>${escapeHtml(c)}</td>`;
  return sections
    .map((s) => {
      const table =
        s.head && s.rows
          ? `<table><thead><tr>${s.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${s.rows.map((row) => `<tr>${row.map(td).join('')}</tr>`).join('')}</tbody></table>`
          : '';
      const list = s.bullets?.length ? `<ul>${s.bullets.map((b) => `<li>${escapeHtml(b)}</li>`).join('')}</ul>` : '';
      return `<section><h2>${escapeHtml(s.title)}</h2>${table}${list}</section>`;
    })
    .join('\n');
}
