// Splits a byte stream into lines: one splitter for every line-based stream of the lab (agent commands and
// events, the listener helper's events, the engines' output and logs). A partial line waits for the rest of
// it; flush() hands over a last line that never got its newline.

export interface LineSplitter {
  (chunk: Buffer | string): void;
  flush(): void;
}

export function lineSplitter(onLine: (line: string) => void): LineSplitter {
  let rest = '';
  const split = (chunk: Buffer | string) => {
    rest += chunk.toString();
    let nl: number;
    while ((nl = rest.indexOf('\n')) !== -1) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      onLine(line);
    }
  };
  return Object.assign(split, {
    flush() {
      const last = rest;
      rest = '';
      if (last) onLine(last);
    },
  });
}
