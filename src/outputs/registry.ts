// One registry, one file per output. A new output is a file exporting an Output and a line here.
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { OutputError } from '../core/errors.ts';
import { join } from 'node:path';
import type { Report } from '../report/report.ts';
import type { Output, OutputContext } from './output.ts';
import { reportJson } from './report-json.ts';
import { junitXml } from './junit-xml.ts';
import { summaryMarkdown } from './summary-markdown.ts';
import { reportHtml } from './report-html.ts';

export const OUTPUTS: readonly Output[] = [reportJson, summaryMarkdown, junitXml, reportHtml];

/**
 * Writes `content` to `file` whole or not at all: into a new temporary name ('wx': O_EXCL, no symlink followed)
 * then renamed over the file (a rename replaces a symlink planted at that name rather than writing through it).
 */
export function writeWhole(file: string, content: string): void {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    writeFileSync(tmp, content, { flag: 'wx', mode: 0o644 });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new OutputError(`cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

/** Writes every output's file into the run directory; returns the files written. */
export async function writeOutputs(report: Report, dir: string, outputs: readonly Output[] = OUTPUTS): Promise<string[]> {
  const context: OutputContext = { dir, samplesFile: join(dir, 'samples.ndjson') };
  const written: string[] = [];
  for (const output of outputs) {
    const file = join(dir, output.file);
    writeWhole(file, await output.write(report, context));
    written.push(file);
  }
  return written;
}
