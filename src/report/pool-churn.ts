// A keep-alive pool smaller than its load: it keeps `idleKept` idle connections, and a request that finds none
// idle opens a new one. When a load's requests come in waves of `concurrency` (a burst, all in flight together),
// each wave after the first finds the idleKept connections the previous one left, opens (concurrency - idleKept)
// more, and as its responses come back the pool keeps idleKept and closes the rest (nginx upstream `keepalive N`;
// Node's http.Agent maxFreeSockets; Go's MaxIdleConnsPerHost). Per request that is 1 - idleKept / concurrency
// after the first wave. A closed load's requests come and go apart, so a freed connection is often taken again
// before the pool is over its cap: there the same figure is an upper bound.
import type { Plan } from '../core/plan.ts';
import { TIME_WAIT_SECONDS } from '../core/port-budget.ts';
import { closeOutcome } from './close-outcome.ts';
import { capPeer } from './evidence/time-wait.ts';
import { poolsOf, type PoolEvidence } from './evidence/pools.ts';
import { n } from './findings/words.ts';
import { connectionsOf } from '../plan/connection-models.ts';
import type { HostReport, PoolChurnPrediction, Report } from './report.ts';

const round = (v: number, places: number) => Math.round(v * 10 ** places) / 10 ** places;

/** New connections a pool makes for `requests` in waves of `concurrency`, keeping `idleKept` between waves. */
export function waveConnections(requests: number, concurrency: number, idleKept: number): number {
  const kept = Math.min(idleKept, concurrency);
  return Math.round(
    Math.min(concurrency, requests) + (Math.max(0, requests - concurrency) * (concurrency - kept)) / concurrency,
  );
}

export function predictPoolChurn(
  plan: Plan,
  report: Pick<Report, 'hosts' | 'actors'>,
): Record<string, PoolChurnPrediction> {
  const out: Record<string, PoolChurnPrediction> = {};
  for (const pool of poolsOf(plan, report))
    out[pool.owner.name] = prediction(plan, pool, report.hosts[pool.owner.host]!);
  return out;
}

function prediction(plan: Plan, pool: PoolEvidence, host: HostReport): PoolChurnPrediction {
  const { concurrency: c, requests: r } = pool;
  const kept = Math.min(pool.idleKept, c);
  const predicted = waveConnections(r, c, pool.idleKept);
  const perRequest = r > 0 ? predicted / r : (c - kept) / c;
  const measuredPerRequest = pool.opens !== null && r > 0 ? pool.opens / r : null;
  const tw = timeWait(plan, pool, host, predicted - Math.min(kept, predicted));
  const loads = pool.loads.join(', ');
  const arrivals = pool.waves
    ? `${loads} starts its requests in bursts of ${n(c)}, all in flight together`
    : `${loads} keeps up to ${n(c)} requests in flight, which come and go apart, so a freed connection is often taken again before the pool is over its cap: an upper bound`;
  const basis =
    `the pool keeps ${n(pool.idleKept)} idle connections toward ${pool.destination}, and a request that finds none idle opens another; ${arrivals}. ` +
    (kept < c
      ? `The first wave opens ${n(Math.min(c, r))}; each later one reuses the ${n(kept)} kept and opens ${n(c - kept)}, of which the pool closes all but ${n(kept)} as the responses come back: ${n(Math.min(c, r))} + (${n(r)} - ${n(c)}) x ${n(c - kept)}/${n(c)} = ${n(predicted)} connections for ${n(r)} requests, 1 - ${n(kept)}/${n(c)} = ${round(1 - kept / c, 3)} per request after the first wave`
      : `It keeps at least as many as come at once: the first wave's ${n(Math.min(c, r))} connections carry every later one, ${n(predicted)} for ${n(r)} requests`) +
    (pool.opens === null
      ? `; measured is not read: another actor of host ${pool.owner.host} connects out too, and Tcp.ActiveOpens counts both`
      : '') +
    `. ${tw.why}`;
  return {
    actor: pool.owner.name,
    host: pool.owner.host,
    destination: pool.destination,
    idleKept: pool.idleKept,
    concurrency: c,
    arrivals: pool.waves ? 'waves' : 'bound',
    requests: r,
    predictedConnections: predicted,
    measuredConnections: pool.opens,
    predictedPerRequest: round(perRequest, 4),
    measuredPerRequest: measuredPerRequest === null ? null : round(measuredPerRequest, 4),
    ratio: measuredPerRequest === null || perRequest <= 0 ? null : round(measuredPerRequest / perRequest, 3),
    predictedTimeWait: tw.predicted,
    measuredTimeWait: capPeer(host.peak.peers.ephemeral[pool.destination]?.TIME_WAIT ?? 0, host),
    basis,
  };
}

/** TIME_WAIT the pool's closes leave on its host: one per connection closed, where it closes with a FIN answered by a FIN. */
function timeWait(
  plan: Plan,
  pool: PoolEvidence,
  host: HostReport,
  closes: number,
): { predicted: number | null; why: string } {
  const target = plan.actors[pool.dial.to.actor];
  const outcome = closeOutcome(pool.dial, target && connectionsOf(target).accepts);
  if (outcome.holder !== 'client')
    return { predicted: null, why: `No TIME_WAIT is expected on host ${pool.owner.host}: ${outcome.why}` };
  // Entries leave after 60 s: over a longer load only the last 60 s of closes are held at once.
  const held =
    pool.loadMs > TIME_WAIT_SECONDS * 1000 ? Math.round((closes * TIME_WAIT_SECONDS * 1000) / pool.loadMs) : closes;
  const buckets = Number(host.sysctls['net.ipv4.tcp_max_tw_buckets'] ?? Infinity);
  const predicted = Math.min(held, buckets);
  return {
    predicted,
    why: `Each connection closed beyond the pool is a TIME_WAIT on host ${pool.owner.host} (${outcome.why}): ${n(closes)} closed${held < closes ? `, ${n(held)} of them within the last ${TIME_WAIT_SECONDS} s` : ''}${buckets < held ? `, capped by tcp_max_tw_buckets ${n(buckets)}` : ''}`,
  };
}
