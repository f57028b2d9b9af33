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

function temporaryName(file: string): string {
  return `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

function writeError(file: string, err: unknown): OutputError {
  return new OutputError(`cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
    cause: err,
  });
}

/**
 * Writes `content` to `file` whole or not at all: into a new temporary name ('wx': O_EXCL, no symlink followed)
 * then renamed over the file (a rename replaces a symlink planted at that name rather than writing through it).
 */
export function writeWhole(file: string, content: string): void {
  const tmp = temporaryName(file);
  try {
    writeFileSync(tmp, content, { flag: 'wx', mode: 0o644 });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw writeError(file, err);
  }
}

/**
 * Writes every output's file into the run directory; returns the files written. All of them or none: every
 * output is rendered, then written under a temporary name, and only then are they renamed into place, so a
 * renderer that fails or a full disk leaves the files of before (`waitlab report <dir>` re-renders a run).
 */
export async function writeOutputs(
  report: Report,
  dir: string,
  outputs: readonly Output[] = OUTPUTS,
): Promise<string[]> {
  const context: OutputContext = { dir, samplesFile: join(dir, 'samples.ndjson') };
  const rendered: { file: string; content: string }[] = [];
  for (const output of outputs)
    rendered.push({ file: join(dir, output.file), content: await output.write(report, context) });
  const staged: { file: string; tmp: string }[] = [];
  try {
    for (const { file, content } of rendered) {
      const tmp = temporaryName(file);
      try {
        writeFileSync(tmp, content, { flag: 'wx', mode: 0o644 });
      } catch (err) {
        rmSync(tmp, { force: true });
        throw writeError(file, err);
      }
      staged.push({ file, tmp });
    }
    for (const { file, tmp } of staged) {
      try {
        renameSync(tmp, file);
      } catch (err) {
        throw writeError(file, err);
      }
    }
  } finally {
    for (const { tmp } of staged) rmSync(tmp, { force: true });
  }
  return rendered.map((r) => r.file);
}
