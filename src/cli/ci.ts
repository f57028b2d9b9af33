// CI conventions: GitHub Actions annotations for failed thresholds and regressions (only under
// GITHUB_ACTIONS=true), summary.md appended to the job's step summary (when GITHUB_STEP_SUMMARY is set), and
// no progress-line redraws under CI=true.
import { appendFileSync } from 'node:fs';
import type { Comparison } from '../report/comparison.ts';
import type { Report } from '../report/report.ts';

export interface CiEnvironment {
  readonly githubActions: boolean;
  readonly stepSummary: string | undefined;
  /** CI=true, or NO_COLOR: plain lines, nothing redrawn in place. */
  readonly plain: boolean;
}

export function ciEnvironment(env: NodeJS.ProcessEnv = process.env): CiEnvironment {
  return {
    githubActions: env['GITHUB_ACTIONS'] === 'true',
    stepSummary: env['GITHUB_STEP_SUMMARY'] || undefined,
    plain: env['CI'] === 'true' || env['CI'] === '1' || (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== ''),
  };
}

/** A workflow command's data: GitHub reads %, CR and LF escaped; its properties also : and ,. */
const data = (s: string) => s.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
const property = (s: string) => data(s).replaceAll(':', '%3A').replaceAll(',', '%2C');

/** ::error and ::warning lines for a run's failed thresholds and for a comparison's regressions. */
export function annotations(
  report: Pick<Report, 'scenario' | 'thresholds' | 'error'>,
  comparison?: Comparison,
): string[] {
  const title = (what: string) => property(`waitlab ${report.scenario.name}: ${what}`);
  const out: string[] = [];
  for (const t of report.thresholds) {
    if (!t.ok)
      out.push(
        `::error title=${title('threshold failed')}::${data(`${t.expression}: measured ${t.value ?? 'nothing'}${t.reason ? ` (${t.reason})` : ''}`)}`,
      );
  }
  if (report.error) out.push(`::error title=${title('run failed')}::${data(report.error)}`);
  for (const m of comparison?.metrics ?? []) {
    if (m.verdict === 'missing')
      out.push(`::error title=${title('regression')}::${data(`${m.path} is absent; the baseline had ${m.baseline}`)}`);
    else if (m.verdict === 'regression')
      out.push(
        `::error title=${title('regression')}::${data(`${m.path}: ${m.current} against baseline ${m.baseline}, beyond ${m.tolerance} (${m.kind})`)}`,
      );
  }
  for (const w of comparison?.warnings ?? []) out.push(`::warning title=${title('comparison')}::${data(w)}`);
  return out;
}

/** Prints the annotations (GitHub Actions only) and appends the Markdown to the step summary (when set). */
export function reportToCi(
  ci: CiEnvironment,
  lines: readonly string[],
  markdown: string,
  out: NodeJS.WritableStream = process.stdout,
): void {
  if (ci.githubActions) for (const l of lines) out.write(`${l}\n`);
  if (ci.stepSummary) appendFileSync(ci.stepSummary, `${markdown}\n`);
}
