// The directives of an nginx configuration with the blocks they sit in, read with nginx's own lexical rules
// (ngx_conf_read_token): words split by whitespace, `;` ends a directive, `{` and `}` open and close a block,
// `#` starts a comment where a word could start, quotes group a word and a backslash escapes in them. Enough to
// see which top-level directives a user's file sets and what its upstream blocks say; nginx -t judges the rest.

export interface NginxDirective {
  readonly name: string;
  readonly args: readonly string[];
  /** The names of the blocks it is in, outermost first: [] at the top level, ['http', 'upstream'] in an upstream. */
  readonly blocks: readonly string[];
  readonly line: number;
}

/** Every directive of `text` (those that open a block too), in order; a syntax nginx would refuse stops the scan quietly. */
export function nginxDirectives(text: string): NginxDirective[] {
  const out: NginxDirective[] = [];
  const blocks: string[] = [];
  let words: string[] = [];
  let firstLine = 1;
  let line = 1;
  let i = 0;
  const end = (opens: boolean) => {
    if (words.length) out.push({ name: words[0]!, args: words.slice(1), blocks: [...blocks], line: firstLine });
    if (opens) blocks.push(words[0] ?? '');
    words = [];
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') line++;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === ';' || c === '{') {
      end(c === '{');
      i++;
      continue;
    }
    if (c === '}') {
      end(false);
      if (blocks.pop() === undefined) return out;
      i++;
      continue;
    }
    if (words.length === 0) firstLine = line;
    let word = '';
    if (c === '"' || c === "'") {
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        if (text[i] === '\n') line++;
        word += text[i];
        i++;
      }
      i++;
    } else {
      while (i < text.length && !/[\s;{}]/.test(text[i]!)) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        word += text[i];
        i++;
      }
    }
    words.push(word);
  }
  return out;
}
