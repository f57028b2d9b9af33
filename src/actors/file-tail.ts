// An engine's log file, followed line by line from its start by polling (the engines write it themselves).
import { closeSync, openSync, readSync } from 'node:fs';
import { lineSplitter } from '../core/lines.ts';

/** Follows a log file the engine appends to, line by line, from its start. */
export class FileTail {
  private offset = 0;
  private readonly split = lineSplitter((line) => line.trim() && this.onLine(line));
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly path: string,
    private readonly onLine: (line: string) => void,
  ) {}

  start(everyMs: number): void {
    this.timer = setInterval(() => this.poll(), everyMs);
  }

  /** Reads what was appended since the last poll. */
  poll(): void {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return;
    }
    try {
      const buf = Buffer.alloc(64 * 1024);
      let n: number;
      while ((n = readSync(fd, buf, 0, buf.length, this.offset)) > 0) {
        this.offset += n;
        this.split(buf.subarray(0, n));
      }
    } finally {
      closeSync(fd);
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.poll();
  }
}
