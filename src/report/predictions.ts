// What theory says should happen, next to what the kernel showed: the port budget and its exhaustion
// time, and the TIME_WAIT population on the host that closes first.
import { stat } from './report.ts';
import type { Plan } from '../core/plan.ts';
import { portBudget, sameParityPorts, TIME_WAIT_SECONDS } from '../core/port-budget.ts';
import type { ExhaustionPrediction, HostReport, Report, TimeWaitPrediction } from './report.ts';

function ratio(measured: number | null, predicted: number): number | null {
  return measured === null || predicted <= 0 ? null : Math.round((measured / predicted) * 1000) / 1000;
}

export function predict(plan: Plan, hosts: Record<string, HostReport>, actors: Report['actors']): Report['predictions'] {
  const out: Report['predictions'] = {};
  for (const actor of Object.values(plan.actors)) {
    if (actor.kind !== 'short-conn-client' || !actor.connect) continue;
    const stats = actors[actor.name];
    const client = hosts[actor.host];
    const server = hosts[actor.connect.host];
    if (!stats || !client || !server) continue;
    const connectRate = stat(stats, 'connectRate') ?? 0;
    const durationMs = stat(stats, 'durationMs') ?? 0;
    const startedAtMs = stat(stats, 'startedAtMs') ?? 0;
    const closer = actor.options['closer'] as 'client' | 'server';
    const budget = portBudget(client.sysctls);
    const entry: (typeof out)[string] = {};

    // A flood that binds first (localAddress / localPort) draws on other budgets: one port, or a range not
    // shared across destinations. The EADDRNOTAVAIL prediction is for plain connect() only.
    const bindsFirst = actor.options['localAddress'] !== undefined || actor.options['localPort'] !== undefined;
    if (budget && connectRate > 0 && !bindsFirst) {
      const errors = stat(stats, 'errors') ?? {};
      const first = errors['EADDRNOTAVAIL']?.firstAtMs;
      const measuredMs = first === undefined ? null : Math.round(first - startedAtMs);
      const predictedMs = Math.round((budget.budget / connectRate) * 1000);
      entry.exhaustion = {
        actor: actor.name,
        host: actor.host,
        portBudget: budget.budget,
        portRange: budget.range,
        connectRate: Math.round(connectRate * 10) / 10,
        predictedMs,
        measuredMs,
        ratio: ratio(measuredMs, predictedMs),
      } satisfies ExhaustionPrediction;
    }

    const holder = closer === 'client' ? client : server;
    const measured = closer === 'client' ? holder.peak.ephemeral.TIME_WAIT : holder.peak.listen.TIME_WAIT;
    const byRate = Math.round(connectRate * Math.min(durationMs / 1000, TIME_WAIT_SECONDS));
    const serverOptions = plan.actors[actor.connect.actor]?.options ?? {};
    const [closerStyle, otherStyle] = closer === 'client' ? [actor.options['closeStyle'], serverOptions['closeStyle']] : [serverOptions['closeStyle'], actor.options['closeStyle']];
    // TIME_WAIT needs a FIN from the closer and then one from the other side: a close by RST (SO_LINGER 0,
    // close(2) with a request body unread, data written to a closed server), or a side that never closes, leaves none.
    const resets = closerStyle === 'rst'
      || (serverOptions['requestBody'] === 'unread' && Number(actor.options['requestBodyBytes'] ?? 0) > 0)
      || (closer === 'server' && Number(actor.options['writeAfterPeerClose'] ?? 0) > 0);
    const finishes = (closerStyle === 'graceful' || closerStyle === 'close') && otherStyle !== 'never' && !resets;
    // The server's TIME_WAIT holds one entry per client 4-tuple: a new SYN on the same 4-tuple takes the
    // entry over. A client that holds no TIME_WAIT itself gets every port of connect()'s preferred parity.
    const clientTuples = budget ? sameParityPorts(budget.range) : Infinity;
    // tcp_max_tw_buckets caps TIME_WAIT per namespace; past it a close skips TIME_WAIT.
    const buckets = Number(holder.sysctls['net.ipv4.tcp_max_tw_buckets'] ?? Infinity);
    const predicted = !finishes ? 0 : Math.min(buckets, closer === 'client' && budget ? Math.min(budget.budget, byRate) : Math.min(clientTuples, byRate));
    entry.timeWait = {
      actor: actor.name,
      host: closer === 'client' ? actor.host : actor.connect.host,
      closer,
      predicted,
      measured,
      ratio: ratio(measured, predicted),
      ofPortBudget: closer === 'client' && budget ? ratio(measured, budget.budget) : null,
    } satisfies TimeWaitPrediction;
    out[actor.name] = entry;
  }
  return out;
}
