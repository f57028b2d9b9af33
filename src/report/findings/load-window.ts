// When the load ran, and what the sampled series showed at a given moment: shared by the rules that
// speak of growth rates and of what outlived a kernel timer.
import { stat } from '../report.ts';
import type { TcpStateName } from '../../sampler/tcp-states.ts';
import type { HostReport } from '../report.ts';
import type { FindingInput } from './rule.ts';

export interface LoadWindow {
  startMs: number;
  endMs: number;
}

/** From the first load actor's start to the last one's end, on the run's clock. */
export function loadWindow({
  plan,
  report,
}: {
  plan: FindingInput['plan'];
  report: Pick<FindingInput['report'], 'actors'>;
}): LoadWindow | undefined {
  let startMs = Infinity;
  let endMs = -Infinity;
  for (const actor of Object.values(plan.actors)) {
    if (actor.role !== 'load') continue;
    const stats = report.actors[actor.name];
    const started = stat(stats, 'startedAtMs');
    if (typeof started !== 'number') continue;
    startMs = Math.min(startMs, started);
    endMs = Math.max(endMs, started + (stat(stats, 'durationMs') ?? 0));
  }
  return Number.isFinite(startMs) ? { startMs, endMs } : undefined;
}

/** The state's count at the last series point at or before t (0 before the first). */
export function stateAt(host: HostReport, state: TcpStateName, t: number): number {
  const column = host.series.states[state];
  if (!column) return 0;
  let value = 0;
  for (let i = 0; i < host.series.t.length && host.series.t[i]! <= t; i++) value = column[i] ?? 0;
  return value;
}

/** Time of the last sample. */
export function lastSampleMs(host: HostReport): number {
  return host.series.t.at(-1) ?? 0;
}

/** A sysctl read back from the host, as a number; undefined when absent. */
export function sysctlNumber(host: HostReport, name: string): number | undefined {
  const v = host.sysctls[name];
  return v === undefined || v === '' ? undefined : Number(v);
}
