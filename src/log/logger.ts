// pino logs: NDJSON into the run's log.ndjson; with --verbose also pretty-printed on stderr.
// Read a log later with `npx pino-pretty < reports/<scenario>/<run>/log.ndjson`.
import { openSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export function createRunLogger(
  file: string,
  options: { verbose?: boolean; level?: string } = {},
): { logger: Logger; close(): Promise<void> } {
  // A new file only ('wx': O_EXCL, which also refuses a symlink planted in its place), handed over as an fd.
  const fileStream = pino.destination({ dest: openSync(file, 'wx', 0o644), sync: false });
  // A write that failed (ENOSPC) would be retried for ever by the synchronous flush pino runs at exit (sonic-boom's
  // flushSync sleeps and retries on every error, not only EAGAIN): a full disk hung the process at exit. The log is
  // given up instead (destroyed, so that flush skips it, and written to no more); the run's own error says why.
  let failed = false;
  fileStream.on('error', () => {
    failed = true;
    fileStream.destroy();
  });
  const toFile = { write: (line: string) => (failed ? true : fileStream.write(line)) };
  const streams: pino.StreamEntry[] = [{ stream: toFile, level: 'debug' }];
  if (options.verbose)
    streams.push({ stream: pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY }), level: 'debug' });
  const logger = pino({ level: options.level ?? 'debug', base: undefined }, pino.multistream(streams));
  return {
    logger,
    close: () =>
      new Promise<void>((resolve) => {
        if (failed) return resolve();
        fileStream.end();
        fileStream.once('close', () => resolve());
        fileStream.once('error', () => resolve());
      }),
  };
}
