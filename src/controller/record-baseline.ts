// `waitlab baseline`: the same plan run several times, each in a fresh lab and its own directory, summarised
// into baseline.json (medians, ranges, spreads) and baseline.md. Runs one after another: two labs at once on
// one machine would skew each other's rates.
import { join } from 'node:path';
import type { Plan } from '../core/plan.ts';
import { makeTrustedDirectory } from '../core/trusted-path.ts';
import { writeWhole } from '../outputs/registry.ts';
import { sectionsMarkdown, type Section } from '../outputs/sections.ts';
import { summarizeBaseline } from '../report/baseline.ts';
import { INFORMATIONAL } from '../report/comparison.ts';
import { toleranceRules } from '../report/compare.ts';
import { BASELINE_FILE, type BaselineFile } from '../report/report-file.ts';
import type { Report } from '../report/report.ts';
import { runScenario, type RunOptions } from './run-scenario.ts';
import { numberText } from '../core/number-text.ts';

export async function recordBaseline(
  plan: Plan,
  runs: number,
  dirGiven: string,
  options: Omit<RunOptions, 'outDir' | 'baseline'> & { onRun?: (i: number, report: Report) => void } = {},
): Promise<BaselineFile> {
  // baseline.json is written by name: no other user may be able to swap the directory, or one above it, for a symlink.
  const dir = makeTrustedDirectory(dirGiven);
  const reports: Report[] = [];
  const dirs: string[] = [];
  for (let i = 1; i <= runs; i++) {
    const name = `run-${i}`;
    const { report } = await runScenario(plan, { ...options, outDir: join(dir, name) });
    reports.push(report);
    dirs.push(name);
    options.onRun?.(i, report);
  }
  const baseline = summarizeBaseline(reports, dirs, toleranceRules(plan.regressions));
  writeWhole(join(dir, BASELINE_FILE), `${JSON.stringify(baseline, null, 2)}\n`);
  writeWhole(join(dir, 'baseline.md'), baselineMarkdown(baseline, reports));
  return baseline;
}

export function baselineMarkdown(b: BaselineFile, reports: readonly Report[]): string {
  const num = (v: number | undefined) => (v === undefined ? '-' : numberText(v, 2));
  const sections: Section[] = [
    {
      title: 'Runs',
      head: ['run', 'verdict', 'started'],
      rows: reports.map((r, i) => [b.runs[i] ?? '', r.verdict, r.startedAt]),
    },
    {
      title: 'Metrics (median, range, spread)',
      head: ['metric', 'median', 'min', 'max', 'spread'],
      rows: Object.keys(b.metrics)
        .filter((p) => b.max[p] !== 0)
        .map((p) => [p, num(b.metrics[p]), num(b.min[p]), num(b.max[p]), `${num((b.spread[p] ?? 0) * 100)}%`]),
    },
  ];
  if (b.noisy.length) {
    sections.push({
      title: 'Noisier than their tolerance',
      bullets: b.noisy.map(
        (n) =>
          `${n.path}: spread ${num(n.spread * 100)}% across the runs, tolerance ${n.tolerance}: compared ${n.widened === INFORMATIONAL ? 'as informational, never a regression' : `within ${n.widened}`}; record more runs for a tighter one`,
      ),
    });
  }
  return sectionsMarkdown(
    [`baseline of ${b.identity.scenario}: ${b.runs.length} runs`, `kernel ${b.identity.kernel}`],
    sections,
  );
}
