// Reading what runs left on disk: a report.json, or a baseline (baseline.json from `waitlab baseline`, or any
// run's report.json). Whatever is not one of these is a usage error that names the file, never a stack trace.
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from '../core/errors.ts';
import { readJsonInput } from '../core/input-file.ts';
import { baselineOf } from './compare.ts';
import type { Baseline, RunIdentity } from './comparison.ts';
import { REPORT_SCHEMA_VERSION, type Report } from './report.ts';

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

function readJson(file: string): unknown {
  return readJsonInput(file);
}

function isReport(v: unknown): v is Report {
  const r = v as Partial<Report> | null;
  return !!r && typeof r === 'object' && r.schemaVersion === REPORT_SCHEMA_VERSION && typeof r.scenario?.name === 'string' && !!r.hosts && !!r.actors;
}

/** A run directory (its report.json) or a report.json itself. */
export function readReport(path: string): Report {
  const file = isDirectory(path) ? join(path, 'report.json') : path;
  const value = readJson(file);
  if (!isReport(value)) throw new UsageError(`${file} is not a waitlab report (schemaVersion ${REPORT_SCHEMA_VERSION} with scenario, hosts and actors)`);
  return value;
}

/** A baseline directory (baseline.json), a run directory (report.json), or either file. */
export function readBaseline(path: string): Baseline {
  const file = isDirectory(path) ? (existsSync(join(path, BASELINE_FILE)) ? join(path, BASELINE_FILE) : join(path, 'report.json')) : path;
  const value = readJson(file) as Partial<BaselineFile>;
  if (value && value.kind === BASELINE_KIND) {
    if (!value.identity || !value.metrics) throw new UsageError(`${file}: a baseline without identity or metrics`);
    const widened = Object.fromEntries((value.noisy ?? []).flatMap((n) => (n.widened ? [[n.path, n.widened]] : [])));
    return { identity: { ...value.identity, label: path }, metrics: value.metrics, spread: value.spread ?? {}, widened };
  }
  if (!isReport(value)) throw new UsageError(`${file} is neither a waitlab report nor a baseline`);
  return baselineOf(value, path);
}

/**
 * The run directories behind a baseline, for drawing them: those its baseline.json was made from that are still
 * on disk (they hold report.json), or the run itself where the baseline is one run.
 */
export function baselineRunDirs(path: string): string[] {
  const file = isDirectory(path) ? (existsSync(join(path, BASELINE_FILE)) ? join(path, BASELINE_FILE) : join(path, 'report.json')) : path;
  const value = readJson(file) as Partial<BaselineFile>;
  if (value?.kind !== BASELINE_KIND) return [dirname(file)];
  return (value.runs ?? []).map((r) => join(dirname(file), r)).filter((dir) => existsSync(join(dir, 'report.json')));
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
