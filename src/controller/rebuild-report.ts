// A run killed before it wrote report.json (SIGKILL of the controller) left log.ndjson, which opens with the
// resolved plan, and samples.ndjson, streamed as the run went: `waitlab report <dir>` rebuilds what it can
// from every whole line of both, and the report says that the run was killed.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentEvent } from '../agent/protocol.ts';
import { UsageError } from '../core/errors.ts';
import { NDJSON_FILE_MAX_BYTES, readInputFile } from '../core/input-file.ts';
import { checkShape, number, object, optional, record, string, type Shape } from '../core/shape.ts';
import { Recorder } from '../recorder/recorder.ts';
import { buildReport } from '../report/build-report.ts';
import { PLAN_SHAPE, planOf } from '../report/plan-shape.ts';
import type { Report } from '../report/report.ts';
import type { Counters } from '../sampler/kernel-counters.ts';

/** Every line that parses; a line cut short by the kill does not. */
function wholeLines(file: string): unknown[] {
  const out: unknown[] = [];
  for (const line of readInputFile(file, NDJSON_FILE_MAX_BYTES).split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // torn by the kill
    }
  }
  return out;
}

// The two lines of log.ndjson a rebuild reads, checked before use: anyone may have written the file.
const RUN_STARTING = object({ time: optional(number()), plan: PLAN_SHAPE });
const LAB_BUILT = object({ lab: string(), hosts: record(object({ location: string() })) });

function logLine<T>(logFile: string, lines: unknown[], msg: string, shape: Shape<T>): T | undefined {
  const line = lines.find(
    (l): l is Record<string, unknown> => typeof l === 'object' && l !== null && (l as { msg?: unknown }).msg === msg,
  );
  return line && checkShape(shape, line, (problem) => new UsageError(`${logFile}: its "${msg}" line: ${problem}`));
}

export function rebuildReport(dir: string): { report: Report; samples: number } {
  const logFile = join(dir, 'log.ndjson');
  const samplesFile = join(dir, 'samples.ndjson');
  if (!existsSync(logFile) || !existsSync(samplesFile))
    throw new UsageError(`${dir} has no report.json, and no log.ndjson and samples.ndjson to rebuild one from`);
  const log = wholeLines(logFile);
  const start = logLine(logFile, log, 'run starting', RUN_STARTING);
  if (!start) throw new UsageError(`${logFile} does not begin with the run's plan: cannot rebuild its report`);
  const built = logLine(logFile, log, 'lab built', LAB_BUILT);
  const plan = planOf(start.plan);

  const recorder = new Recorder(undefined);
  const countersStart: Record<string, Counters> = {};
  const actorStats: Record<string, Record<string, unknown>> = {};
  let events = 0;
  let lastMs = 0;
  for (const e of wholeLines(samplesFile) as (AgentEvent & { host?: string })[]) {
    if (e.type === 'sample') {
      countersStart[e.host] ??= e.counters;
      lastMs = Math.max(lastMs, e.t);
    } else if (e.type === 'stats') actorStats[e.actor] = e.stats as Record<string, unknown>;
    else continue;
    recorder.onEvent(e.host ?? '', e);
    events++;
  }
  const startedAt = new Date(start.time ?? 0);
  const report = buildReport({
    plan,
    recorder,
    lab: {
      id: built?.lab ?? 'unknown',
      driver: plan.driver,
      locations: Object.fromEntries(Object.entries(built?.hosts ?? {}).map(([h, x]) => [h, x.location])),
    },
    privilege: 'unknown',
    startedAt,
    durationMs: lastMs,
    // Sampling began only after every host's sysctls had read back as planned (the run checks that first).
    sysctls: Object.fromEntries(Object.entries(plan.hosts).map(([h, hp]) => [h, { ...hp.sysctls }])),
    // The first sample's counters stand in for the start; the last sample's serve as the end.
    countersStart,
    countersEnd: {},
    actorStats,
    interrupted: false,
    error: {
      code: 'WAITLAB_INTERRUPTED',
      message: `the run was killed before it wrote report.json; rebuilt from ${events} whole lines of samples.ndjson and log.ndjson: counters are as of the last sample, and stats as of the last stats event`,
    },
  });
  return { report: { ...report, verdict: 'interrupted' }, samples: events };
}
