// Exit codes, documented in the README and in `waitlab --help`. Error codes and verdicts map to them only here,
// below the CLI, so that a program using the library (run(), compare()) gets the code the CLI would exit with.
import { isWaitlabError, type InterruptedError, type WaitlabErrorCode } from '../core/errors.ts';
import type { Comparison } from '../report/comparison.ts';
import type { MatrixComparison } from '../report/matrix.ts';
import type { Report } from '../report/report.ts';

export const EXIT = {
  OK: 0,
  THRESHOLDS_FAILED: 1,
  INVALID: 2,
  LAB_UNAVAILABLE: 3,
  INTERNAL: 4,
  /** `waitlab compare` or `--baseline` found a metric out of tolerance (or missing). */
  REGRESSION: 5,
  SIGINT: 130,
  SIGTERM: 143,
} as const;

const EXIT_FOR_CODE: Readonly<Record<WaitlabErrorCode, number | ((err: never) => number)>> = {
  WAITLAB_INVALID_PLAN: EXIT.INVALID,
  WAITLAB_INVALID_VALUE: EXIT.INVALID,
  WAITLAB_USAGE: EXIT.INVALID,
  WAITLAB_LAB_UNAVAILABLE: EXIT.LAB_UNAVAILABLE,
  WAITLAB_LAB_COMMAND: EXIT.LAB_UNAVAILABLE,
  WAITLAB_ACTOR_FAILED: EXIT.LAB_UNAVAILABLE,
  WAITLAB_LAB_TEARDOWN: EXIT.INTERNAL,
  WAITLAB_AGENT: EXIT.INTERNAL,
  WAITLAB_AGENT_EXITED: EXIT.INTERNAL,
  WAITLAB_INTERNAL: EXIT.INTERNAL,
  WAITLAB_OUTPUT: EXIT.INTERNAL,
  WAITLAB_INTERRUPTED: (err: InterruptedError) => (err.signal === 'SIGTERM' ? EXIT.SIGTERM : EXIT.SIGINT),
};

export function exitCodeFor(err: unknown): number {
  if (!isWaitlabError(err)) return EXIT.INTERNAL;
  const exit = EXIT_FOR_CODE[err.code];
  return typeof exit === 'function' ? exit(err as never) : exit;
}

/** A run's: thresholds first, so a run that failed them exits 1 even when it also regressed; a regression alone exits 5. */
export function reportExitCode(report: Pick<Report, 'verdict' | 'comparison'>): number {
  if (report.verdict !== 'pass') return report.verdict === 'fail' ? EXIT.THRESHOLDS_FAILED : EXIT.INTERNAL;
  return report.comparison?.verdict === 'regression' ? EXIT.REGRESSION : EXIT.OK;
}

/** A comparison with a baseline's (`waitlab compare`). */
export function comparisonExitCode(comparison: Pick<Comparison, 'verdict'>): number {
  return comparison.verdict === 'pass' ? EXIT.OK : EXIT.REGRESSION;
}

/** Runs side by side (several profiles or a sweep): 1 where a run did not go as predicted. */
export function matrixExitCode(comparison: Pick<MatrixComparison, 'verdict'>): number {
  return comparison.verdict === 'pass' ? EXIT.OK : EXIT.THRESHOLDS_FAILED;
}
