// The files of `waitlab compare --out DIR`: compare.json, compare.md, junit.xml, and compare.html with the
// current run drawn over its baseline's runs (those still on disk).
import { statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { renderCompareHtml } from '../outputs/comparison-html.ts';
import { comparisonMarkdown } from '../outputs/comparison-markdown.ts';
import { renderJunit } from '../outputs/junit-xml.ts';
import { writeWhole } from '../outputs/registry.ts';
import type { Comparison } from '../report/comparison.ts';
import { baselineRunDirs, readReport } from '../report/report-file.ts';
import type { Report } from '../report/report.ts';

/** `compared`: the current run's report with its comparison; `baseline` and `current` as given on the command line. */
export async function writeCompareFiles(
  dir: string,
  compared: Report & { comparison: Comparison },
  baseline: string,
  current: string,
): Promise<void> {
  const comparison = compared.comparison;
  writeWhole(join(dir, 'compare.json'), `${JSON.stringify(comparison, null, 2)}\n`);
  writeWhole(join(dir, 'compare.md'), comparisonMarkdown(comparison));
  writeWhole(join(dir, 'junit.xml'), renderJunit(compared));
  const dirs = baselineRunDirs(baseline);
  const baselineRuns = dirs.map((d) => ({
    label: dirs.length === 1 ? 'baseline' : `baseline ${basename(d)}`,
    report: readReport(d),
    dir: d,
  }));
  const currentDir = statSync(current).isDirectory() ? current : dirname(current);
  writeWhole(
    join(dir, 'compare.html'),
    await renderCompareHtml(comparison, baselineRuns, { label: 'current', report: compared, dir: currentDir }),
  );
}
