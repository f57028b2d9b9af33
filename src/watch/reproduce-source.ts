// The pieces of TypeScript source `doctor --reproduce` writes values into. The values come from a host (process
// names, a namespace's name, sysctls), and root may load the file it writes: a value becomes a number formatted
// from a number, or a string literal that can end nowhere but where it should.
import { InvalidValueError } from '../core/errors.ts';
import { numberText } from '../core/number-text.ts';

/**
 * A double-quoted string literal of only printable ASCII: JSON escapes quotes, backslashes and control
 * characters; everything else outside ASCII is escaped too, U+2028 and U+2029 included, which end a line
 * (and so a // comment) in JavaScript although JSON lets them through.
 */
export function stringLiteral(text: string): string {
  return JSON.stringify(text).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A whole number, written from a number. */
export function intText(v: number): string {
  if (!Number.isSafeInteger(v)) throw new InvalidValueError(`expected a whole number, got ${v}`);
  return String(v);
}

/** A finite number with at most one decimal (a rate), written from a number. */
export function decimalText(v: number): string {
  if (!Number.isFinite(v)) throw new InvalidValueError(`expected a finite number, got ${v}`);
  const r = Math.round(v * 10) / 10;
  return Number.isInteger(r) ? String(r) : r.toFixed(1);
}

/** A count as people read it: 28,232. */
export function countText(v: number): string {
  return numberText(Number(intText(v)));
}

/** Comment lines of at most `width` characters, each starting with `indent// `; the text must be one line of ASCII. */
export function commentLines(text: string, indent: string, width = 116): string[] {
  if (/[^\x20-\x7e]/.test(text))
    throw new InvalidValueError('a comment of a written scenario must be printable ASCII on one line');
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent.length + 3 + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((l) => `${indent}// ${l}`);
}

/** A scenario name (lower-case letters, digits, dashes) made of a host's label: anything else becomes a dash. */
export function scenarioNameOf(label: string): string {
  const slug = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '');
  return `reproduce-${slug || 'host'}`;
}
