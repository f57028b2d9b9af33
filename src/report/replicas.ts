// A scaled host's replicas added up (plan/replicas.ts): per group of actor copies, the sums of what each copy
// counted, and the replicas' TIME_WAIT peaks side by side. Each replica keeps its own entry in hosts and actors.
import type { Plan } from '../core/plan.ts';
import { stat, type ActorReport, type HostReport, type ReplicaTotals } from './report.ts';

const sum = (values: readonly (number | undefined)[]) => values.reduce<number>((a, v) => a + (v ?? 0), 0);

export function replicaTotals(
  plan: Plan,
  hosts: Readonly<Record<string, HostReport>>,
  actors: Readonly<Record<string, ActorReport>>,
): Record<string, ReplicaTotals> | undefined {
  if (!plan.replicas) return undefined;
  const out: Record<string, ReplicaTotals> = {};
  for (const [host, group] of Object.entries(plan.replicas)) {
    const timeWaitPeaks = group.hosts.map((h) => hosts[h]?.peak.total.TIME_WAIT ?? 0);
    out[host] = {
      hosts: [...group.hosts],
      timeWaitPeaks,
      timeWaitPeakMax: Math.max(0, ...timeWaitPeaks),
      actors: Object.fromEntries(
        Object.entries(group.actors).map(([name, copies]) => {
          const entries = copies.map((c) => actors[c]);
          const errors: Record<string, number> = {};
          const replicasWithErrors: Record<string, number> = {};
          for (const e of entries)
            for (const [code, v] of Object.entries(stat(e, 'errors') ?? {})) {
              errors[code] = (errors[code] ?? 0) + v.count;
              if (v.count > 0) replicasWithErrors[code] = (replicasWithErrors[code] ?? 0) + 1;
            }
          return [
            name,
            {
              replicas: [...copies],
              attempts: sum(entries.map((e) => stat(e, 'attempts'))),
              connected: sum(entries.map((e) => stat(e, 'connected'))),
              ok: sum(entries.map((e) => stat(e, 'ok'))),
              missedStarts: sum(entries.map((e) => stat(e, 'missedStarts'))),
              errors,
              replicasWithErrors,
            },
          ];
        }),
      ),
    };
  }
  return out;
}
