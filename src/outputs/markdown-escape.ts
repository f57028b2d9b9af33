// Report strings into Markdown (summary.md, compare.md, comparison.md, the CI step summary): host names,
// scenario descriptions, findings and a baseline's identity are text from report.json, and a viewer must show
// them as written. Unescaped, "<img src=...>" loads an image, "[x](url)" makes a link, "# ... PASS" forges a
// heading and "|" or a newline breaks a table.
import { terminalSafe } from '../core/terminal-text.ts';

/**
 * What opens raw HTML or an autolink ("<" before a letter, "/", "!" or "?"; "<=" stays as it is), an entity, a link or image, a code span, emphasis or a table cell; a backslash before
 * ASCII punctuation shows it as itself (CommonMark). "_" is left alone: it is in every state and sysctl name,
 * marks nothing inside a word (GFM), and elsewhere can only italicise.
 */
const INLINE = /[\\`*[\]&|~]|<(?=[A-Za-z/!?])/g;
/** What opens a block at the start of a line or of a list item's content: a heading, a quote, a list, a thematic break. */
const BLOCK_START = /^(\s*)(#|>|[-+=]|\d+[.)])/;

/** Text in a table cell, a heading or the middle of a line. */
export function markdownInline(text: string): string {
  return terminalSafe(text).replace(INLINE, (c) => `\\${c}`);
}

/** Text that starts a line or a bullet: as inline, and a leading block marker shown as itself. */
export function markdownLineStart(text: string): string {
  return markdownInline(text).replace(
    BLOCK_START,
    (_, space: string, marker: string) => `${space}${marker.replace(/[-+=#>.)]$/, (c) => `\\${c}`)}`,
  );
}
