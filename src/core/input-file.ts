// Files a command reads that anyone may have made: a regular file only (a FIFO blocks a read forever, /dev/zero
// never ends), no larger than its kind's cap, and never quoted in an error: a symlink to /etc/shadow must not
// come back in a parse error on root's terminal.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { UsageError } from './errors.ts';

/** report.json, baseline.json, a profile: far above any real one (a report's series are capped). */
export const JSON_FILE_MAX_BYTES = 64 * 1024 * 1024;
/** log.ndjson and samples.ndjson read whole: a string of V8 stops at about 512 M characters. */
export const NDJSON_FILE_MAX_BYTES = 256 * 1024 * 1024;
/** samples.ndjson read line by line: a 24 h run writes about 1.3 GB. */
export const NDJSON_STREAM_MAX_BYTES = 4 * 1024 * 1024 * 1024;

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

/**
 * Opens `file` for reading, checked: an fd on a regular file of at most `maxBytes`, and its size. O_NONBLOCK so
 * that opening a FIFO returns at once (to be refused) instead of waiting for a writer.
 */
export function openInputFile(file: string, maxBytes: number): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new UsageError(`${file} is ${kindOf(st)}: give a regular file`);
    if (st.size > maxBytes)
      throw new UsageError(`${file} is ${mib(st.size)}, more than the ${mib(maxBytes)} such a file can be`);
    return { fd, size: st.size };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** The whole text of a checked input file; reads stop at the cap even where the size said less (procfs says 0). */
export function readInputFile(file: string, maxBytes: number): string {
  const { fd, size } = openInputFile(file, maxBytes);
  try {
    let buf = Buffer.allocUnsafe(Math.min(maxBytes + 1, Math.max(size + 1, 64 * 1024)));
    let length = 0;
    for (;;) {
      if (length === buf.length) {
        if (length > maxBytes) throw new UsageError(`${file} is more than the ${mib(maxBytes)} such a file can be`);
        const grown = Buffer.allocUnsafe(Math.min(maxBytes + 1, buf.length * 2));
        buf.copy(grown, 0, 0, length);
        buf = grown;
      }
      let n: number;
      try {
        n = readSync(fd, buf, length, buf.length - length, null);
      } catch (err) {
        throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      if (n === 0) break;
      length += n;
    }
    if (length > maxBytes) throw new UsageError(`${file} is more than the ${mib(maxBytes)} such a file can be`);
    return buf.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}

/** A JSON parse error without the text it quotes (V8 quotes the start of the input): where it failed, if V8 says. */
export function jsonErrorWithoutContent(file: string, err: unknown): UsageError {
  const where = / at position \d+(?: \(line \d+ column \d+\))?/.exec((err as Error).message)?.[0] ?? '';
  return new UsageError(`${file} is not JSON${where ? ` (an error${where})` : ''}`);
}

/** A checked input file parsed as JSON; a parse error names the file, never its content. */
export function readJsonInput(file: string, maxBytes = JSON_FILE_MAX_BYTES): unknown {
  const text = readInputFile(file, maxBytes);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw jsonErrorWithoutContent(file, err);
  }
}
