// The shape of a comparison of a run against its baseline, as report.json and compare.json carry it.

export type MetricVerdict = 'ok' | 'regression' | 'improvement' | 'missing';

export interface MetricComparison {
  readonly path: string;
  readonly kind: string;
  readonly baseline: number;
  /** null: the current run lacks the metric. */
  readonly current: number | null;
  /** current / baseline; null when the baseline is 0 or the metric is missing. */
  readonly ratio: number | null;
  readonly tolerance: string;
  readonly verdict: MetricVerdict;
  /** How far past the tolerance, as a fraction of the baseline (for ordering, worst first); 0 when within it or missing (missing ones come first). */
  readonly excess: number;
  /** The baseline's own spread (max - min) / median, when it was recorded from several runs. */
  readonly spread?: number;
}

export interface RunIdentity {
  readonly label: string;
  readonly scenario: string;
  readonly kernel: string;
  readonly params: Readonly<Record<string, unknown>>;
}

export interface Comparison {
  readonly baseline: RunIdentity;
  readonly current: RunIdentity;
  /** Differences that make the comparison weaker (another kernel, other parameters, a noisy baseline). */
  readonly warnings: readonly string[];
  /** Worst first. */
  readonly metrics: readonly MetricComparison[];
  readonly regressions: number;
  readonly verdict: 'pass' | 'regression';
}

/** A noisy metric's widened tolerance that is no tolerance: compared and shown, never a regression. */
export const INFORMATIONAL = 'informational';

/** A baseline: one report, or the medians of several runs with each metric's spread. */
export interface Baseline {
  readonly identity: RunIdentity;
  readonly metrics: Readonly<Record<string, number>>;
  readonly spread?: Readonly<Record<string, number>>;
  /** Noisy metrics' tolerances, widened from their spread when the baseline was recorded (report/baseline.ts), or INFORMATIONAL. */
  readonly widened?: Readonly<Record<string, string>>;
}
