// A summary is a header and a list of sections (tables and bullets); these render one for a terminal or as
// Markdown, so every summary (a run's, a comparison's) reads the same in both (and in HTML pages).
import { escapeHtml } from './html-escape.ts';

export interface Section {
  title: string;
  head?: string[];
  rows?: string[][];
  bullets?: string[];
  /** A fenced block (a Mermaid chart): summary.md only; the terminal and HTML pages draw their own. */
  code?: { lang: string; text: string };
}

/** Markdown: the first header line as the title, the rest as lines under it. */
export function sectionsMarkdown(header: readonly string[], sections: readonly Section[]): string {
  const [title, ...rest] = header;
  const out = [`# ${title}`, '', ...rest.map((l) => `${l}  `), ''];
  for (const s of sections) {
    out.push(`## ${s.title}`, '');
    if (s.head && s.rows) {
      const cell = (c: string) => c.replaceAll('|', '\\|');
      out.push(`| ${s.head.map(cell).join(' | ')} |`, `|${s.head.map(() => '---').join('|')}|`, ...s.rows.map((row) => `| ${row.map(cell).join(' | ')} |`), '');
    }
    if (s.code) out.push(`\`\`\`${s.code.lang}`, s.code.text, '```', '');
    if (s.bullets) out.push(...s.bullets.map((b) => `- ${b}`), '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** Aligned columns for a terminal: the first column left-aligned, the others right-aligned. */
export function sectionsText(header: readonly string[], sections: readonly Section[]): string {
  const out = [...header, ''];
  for (const s of sections) {
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

/** HTML: a heading, a table and a list per section, every cell escaped; numeric cells right-aligned. */
export function sectionsHtml(sections: readonly Section[]): string {
  const escape = escapeHtml;
  const numeric = /^[-+]?[\d,.]+( ?(%|s|ms))?$/;
  const td = (c: string) => `<td${numeric.test(c) ? ' class="num"' : ''}>${escape(c)}</td>`;
  return sections
    .map((s) => {
      const table = s.head && s.rows
        ? `<table><thead><tr>${s.head.map((h) => `<th>${escape(h)}</th>`).join('')}</tr></thead><tbody>${s.rows.map((row) => `<tr>${row.map(td).join('')}</tr>`).join('')}</tbody></table>`
        : '';
      const list = s.bullets?.length ? `<ul>${s.bullets.map((b) => `<li>${escape(b)}</li>`).join('')}</ul>` : '';
      return `<section><h2>${escape(s.title)}</h2>${table}${list}</section>`;
    })
    .join('\n');
}
