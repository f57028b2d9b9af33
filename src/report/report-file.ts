// Reading what runs left on disk: a report.json, or a baseline (baseline.json from `waitlab baseline`, or any
// run's report.json). Each is checked against its shape (report-shape.ts) before use: whatever is not one of
// these is a usage error that names the file and the field, never a stack trace.
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from '../core/errors.ts';
import { readJsonInput } from '../core/input-file.ts';
import { array, checkShape, literal, number, object, objectOf, optional, record, string } from '../core/shape.ts';
import { baselineOf, toleranceFor } from './compare.ts';
import type { Baseline, RunIdentity } from './comparison.ts';
import { REPORT_SCHEMA_VERSION, type Report } from './report.ts';
import { REPORT_SHAPE, reportOf, RUN_IDENTITY_SHAPE } from './report-shape.ts';

export const BASELINE_FILE = 'baseline.json';
export const BASELINE_KIND = 'waitlab-baseline';

/** baseline.json: the medians of several runs of one scenario, with each metric's spread. */
export interface BaselineFile {
  readonly kind: typeof BASELINE_KIND;
  readonly schemaVersion: 1;
  readonly identity: RunIdentity;
  /** The run directories it was made from, relative to the baseline's directory. */
  readonly runs: readonly string[];
  readonly metrics: Readonly<Record<string, number>>;
  readonly min: Readonly<Record<string, number>>;
  readonly max: Readonly<Record<string, number>>;
  /** (max - min) / |median| (where the median is 0: max - min); 0 where every run agreed. */
  readonly spread: Readonly<Record<string, number>>;
  /** Metrics whose own spread is larger than their tolerance: a comparison cannot tell a change from noise. */
  readonly noisy: readonly { path: string; spread: number; tolerance: string; widened?: string }[];
}

const BASELINE_FILE_SHAPE = objectOf<BaselineFile>()({
  kind: literal(BASELINE_KIND),
  schemaVersion: literal(1),
  identity: RUN_IDENTITY_SHAPE,
  runs: array(string()),
  metrics: record(number()),
  min: record(number()),
  max: record(number()),
  spread: record(number()),
  noisy: array(object({ path: string(), spread: number(), tolerance: string(), widened: optional(string()) })),
});

const BASELINE_RUNS_SHAPE = object({ runs: array(string()) });

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The policy of report.ts: every minor of our major is read; another major is named beside ours. */
function asReport(file: string, value: Record<string, unknown>): Report {
  const { major, minor } = REPORT_SCHEMA_VERSION;
  if (value['schemaVersion'] !== major) {
    const theirs = `${String(value['schemaVersion'])}.${typeof value['schemaMinor'] === 'number' ? value['schemaMinor'] : 0}`;
    throw new UsageError(
      `${file} is a report of schema ${theirs}; this waitlab reads schema ${major}.x (writes ${major}.${minor})`,
    );
  }
  return reportOf(checkShape(REPORT_SHAPE, value, (problem) => new UsageError(`${file}: ${problem}`)));
}

/** A run directory (its report.json) or a report.json itself. */
export function readReport(path: string): Report {
  const file = isDirectory(path) ? join(path, 'report.json') : path;
  const value = readJsonInput(file);
  if (!isObject(value) || typeof value['schemaVersion'] !== 'number')
    throw new UsageError(
      `${file} is not a waitlab report (an object with schemaVersion ${REPORT_SCHEMA_VERSION.major})`,
    );
  return asReport(file, value);
}

function baselineFileOf(path: string): string {
  return isDirectory(path)
    ? existsSync(join(path, BASELINE_FILE))
      ? join(path, BASELINE_FILE)
      : join(path, 'report.json')
    : path;
}

/**
 * A baseline directory (baseline.json), a run directory (report.json), or either file. A baseline must hold a
 * metric that a comparison looks at: one that compares nothing would let every run pass.
 */
export function readBaseline(path: string): Baseline {
  const file = baselineFileOf(path);
  const value = readJsonInput(file);
  let baseline: Baseline;
  if (isObject(value) && value['kind'] === BASELINE_KIND) {
    const b = checkShape(BASELINE_FILE_SHAPE, value, (problem) => new UsageError(`${file}: ${problem}`));
    const widened = Object.fromEntries((b.noisy ?? []).flatMap((n) => (n.widened ? [[n.path, n.widened]] : [])));
    baseline = { identity: { ...b.identity, label: path }, metrics: b.metrics, spread: b.spread, widened };
  } else if (isObject(value) && typeof value['schemaVersion'] === 'number') {
    baseline = baselineOf(asReport(file, value), path);
  } else
    throw new UsageError(
      `${file} is neither a waitlab report nor a baseline (an object with kind "${BASELINE_KIND}" or schemaVersion ${REPORT_SCHEMA_VERSION.major})`,
    );
  const paths = Object.keys(baseline.metrics);
  if (!paths.some((p) => toleranceFor(p))) {
    throw new UsageError(
      `${file}: metrics: ${paths.length ? `none of its ${paths.length} metrics is one a comparison looks at (hosts.*.peak.total.TIME_WAIT, actors.*.ok, ...)` : 'empty'}: a baseline that compares nothing would pass every run`,
    );
  }
  return baseline;
}

/**
 * The run directories behind a baseline, for drawing them: those its baseline.json was made from that are still
 * on disk (they hold report.json), or the run itself where the baseline is one run.
 */
export function baselineRunDirs(path: string): string[] {
  const file = baselineFileOf(path);
  const value = readJsonInput(file);
  if (!isObject(value) || value['kind'] !== BASELINE_KIND) return [dirname(file)];
  // Only its runs are read here: readBaseline has checked the rest where a comparison uses it.
  return checkShape(BASELINE_RUNS_SHAPE, value, (problem) => new UsageError(`${file}: ${problem}`))
    .runs.map((r) => join(dirname(file), r))
    .filter((dir) => existsSync(join(dir, 'report.json')));
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
