// Whether a path into report.json can exist for this plan, so that a threshold or a tolerance on the command
// line that names no metric is refused before the lab is built, not found missing after the run. Checked as
// deep as the plan knows the report's shape: hosts and their sections fully, actors and predictions by name.
import type { ActorPlan, HostPlan } from '../core/plan.ts';
import { TCP_STATES } from '../sampler/tcp-states.ts';

const STATES: readonly string[] = TCP_STATES;
const HOST_SECTIONS = ['address', 'location', 'sysctls', 'peak', 'final', 'series', 'samples', 'skippedTicks', 'census', 'counters'];
const CENSUS_PARTS = ['source', 'refused', 'taken', 'skipped', 'perSecond', 'meanMs', 'maxMs'];
const PEAK_PARTS = ['total', 'listen', 'ephemeral', 'atMs', 'sockstatTw', 'peers'];
const PREDICTIONS = ['exhaustion', 'timeWait'];
const TOP = ['hosts', 'actors', 'predictions', 'durationMs', 'comparison'];

/** A problem with `path` (segments may be `*` in a tolerance pattern), or undefined when it can name a metric. */
export function reportPathProblem(path: string, plan: { hosts: Readonly<Record<string, HostPlan>>; actors: Readonly<Record<string, ActorPlan>> }): string | undefined {
  const [top, name, section, part, leaf] = path.split('.');
  const any = (s: string | undefined) => s === '*';
  const oneOf = (s: string | undefined, known: readonly string[], what: string) =>
    s === undefined || any(s) || known.includes(s) ? undefined : `${path}: no ${what} "${s}" (known: ${known.join(', ')})`;
  if (!top || !TOP.includes(top)) return `${path}: a report path starts with ${TOP.join(', ')}`;
  if (top === 'hosts') {
    return oneOf(name, Object.keys(plan.hosts), 'host')
      ?? oneOf(section, HOST_SECTIONS, 'host section')
      ?? (section === 'peak' ? oneOf(part, PEAK_PARTS, 'part of peak') ?? (['total', 'listen', 'ephemeral', 'atMs'].includes(part ?? '') ? oneOf(leaf, STATES, 'TCP state') : undefined) : undefined)
      ?? (section === 'final' ? oneOf(part, STATES, 'TCP state') : undefined)
      ?? (section === 'census' ? oneOf(part, CENSUS_PARTS, 'part of census') : undefined)
      ?? (section === 'counters' ? oneOf(part, ['start', 'end', 'delta'], 'counter set') : undefined);
  }
  if (top === 'actors') return oneOf(name, Object.keys(plan.actors), 'actor');
  if (top === 'predictions') return oneOf(name, Object.keys(plan.actors), 'actor') ?? oneOf(section, PREDICTIONS, 'prediction');
  return undefined;
}
