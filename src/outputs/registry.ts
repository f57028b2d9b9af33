// One registry, one file per output. A new output is a file exporting an Output and a line here.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from '../report/report.ts';
import type { Output, OutputContext } from './output.ts';
import { reportJson } from './report-json.ts';
import { junitXml } from './junit-xml.ts';
import { summaryMarkdown } from './summary-markdown.ts';

export const OUTPUTS: readonly Output[] = [reportJson, summaryMarkdown, junitXml];

/** Writes every output's file into the run directory; returns the files written. */
export async function writeOutputs(report: Report, dir: string, outputs: readonly Output[] = OUTPUTS): Promise<string[]> {
  const context: OutputContext = { dir, samplesFile: join(dir, 'samples.ndjson') };
  const written: string[] = [];
  for (const output of outputs) {
    const file = join(dir, output.file);
    writeFileSync(file, await output.write(report, context));
    written.push(file);
  }
  return written;
}
