// pino logs: NDJSON into the run's log.ndjson; with --verbose also pretty-printed on stderr.
// Read a log later with `npx pino-pretty < reports/<scenario>/<run>/log.ndjson`.
import { openSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export function createRunLogger(file: string, options: { verbose?: boolean; level?: string } = {}): { logger: Logger; close(): Promise<void> } {
  // A new file only ('wx': O_EXCL, which also refuses a symlink planted in its place), handed over as an fd.
  const fileStream = pino.destination({ dest: openSync(file, 'wx', 0o644), sync: false });
  const streams: pino.StreamEntry[] = [{ stream: fileStream, level: 'debug' }];
  if (options.verbose) streams.push({ stream: pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY }), level: 'debug' });
  const logger = pino({ level: options.level ?? 'debug', base: undefined }, pino.multistream(streams));
  return {
    logger,
    close: () =>
      new Promise<void>((resolve) => {
        fileStream.end();
        fileStream.once('close', () => resolve());
        fileStream.once('error', () => resolve());
      }),
  };
}
