// Strings from the system or a file (process names, host names, report.json fields, a child's stderr) on their
// way to a terminal or a CI log: they are shown, never obeyed. A terminal obeys C0 and C1 control characters
// (ESC starts a sequence that can set the title or clear the screen; CSI is also U+009B), a newline forges a
// line of our own, and bidi controls reorder what is read. GitHub's runner obeys a line that starts with "::"
// once leading space is trimmed, and "##[command]" anywhere in a line (ActionCommand.TryParse).

/** Characters a terminal acts on instead of showing: C0, DEL, C1, line and paragraph separators, bidi controls. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\x1b': '\\e' };

function escaped(c: string): string {
  const code = c.codePointAt(0)!;
  return (
    NAMED[c] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`)
  );
}

/**
 * One field, safe to print anywhere in a line: every control character shown as an escape (\e, \n, \x9b, ...),
 * never a line break; a leading ":" and any "##[" escaped too, so that no CI runner reads the line as a command.
 */
export function terminalSafe(text: string): string {
  return text
    .replace(UNSAFE, escaped)
    .replace(/^(\s*):/, '$1\\x3a')
    .replaceAll('##[', '##\\x5b');
}

/** Text of several lines (an error message): each line made safe on its own, the line breaks kept. */
export function terminalSafeLines(text: string): string {
  return text.split('\n').map(terminalSafe).join('\n');
}
