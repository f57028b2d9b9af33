// Keep-alive pools that open connections beyond what they keep idle (connection model: beyondPool
// opens-and-closes), with the load that reaches them: which actors send through them, how many requests at
// once, and how many they carried. Read from the plan's connection models and the actors' stats, never options.
import { endpointText } from '../../core/ipv6.ts';
import { concurrencyOf, relays, type Dial } from '../../core/connection-model.ts';
import type { ActorPlan, Plan } from '../../core/plan.ts';
import { connectionsOf } from '../../plan/connection-models.ts';
import { stat, type Report } from '../report.ts';

export interface PoolEvidence {
  /** The pool's owner and its one dial. */
  readonly owner: ActorPlan;
  readonly dial: Dial;
  readonly destination: string;
  readonly idleKept: number;
  /** The load actors whose requests the pool carries: the owner's clients (a proxy), or the owner itself. */
  readonly loads: readonly string[];
  /** Requests in flight at once, summed over the loads. */
  readonly concurrency: number;
  /** One load whose bursts start all their requests together: they come back in waves. */
  readonly waves: boolean;
  /** Responses of the loads. */
  readonly requests: number;
  /** How long the loads ran, the longest of them (ms). */
  readonly loadMs: number;
  /** Tcp.ActiveOpens of the owner's host, where the owner is the only actor of that host that connects out. */
  readonly opens: number | null;
}

export function poolsOf(plan: Plan, report: Pick<Report, 'hosts' | 'actors'>): PoolEvidence[] {
  const out: PoolEvidence[] = [];
  for (const owner of Object.values(plan.actors)) {
    const model = connectionsOf(owner);
    const dial = model.dials.length === 1 ? model.dials[0]! : undefined;
    const per = dial?.perRequest;
    if (!dial || !per?.pooled || per.beyondPool?.request !== 'opens-and-closes') continue;
    const loads = relays(model)
      ? Object.values(plan.actors).filter((a) => a.connect?.actor === owner.name && connectionsOf(a).load)
      : [owner];
    const each = loads.map((a) => concurrencyOf(connectionsOf(a)));
    if (loads.length === 0 || each.some((c) => c === undefined)) continue;
    const host = report.hosts[owner.host];
    if (!host) continue;
    const dialling = Object.values(plan.actors).filter(
      (a) => a.host === owner.host && connectionsOf(a).dials.length > 0,
    );
    out.push({
      owner,
      dial,
      destination: endpointText(dial.to.address, dial.to.port),
      idleKept: per.beyondPool.idleKept,
      loads: loads.map((a) => a.name),
      concurrency: each.reduce((sum, c) => sum + c!.requests, 0),
      waves: each.length === 1 && each[0]!.together,
      requests: loads.reduce((sum, a) => sum + (stat(report.actors[a.name], 'responses') ?? 0), 0),
      loadMs: Math.max(...loads.map((a) => stat(report.actors[a.name], 'durationMs') ?? 0)),
      opens: dialling.length === 1 ? (host.counters.delta['Tcp.ActiveOpens'] ?? 0) : null,
    });
  }
  return out;
}
