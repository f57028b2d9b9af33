// A keep-alive pool smaller than its load: keep-alive is on, yet a pool that keeps fewer idle connections than
// the requests it gets at once opens a new connection for most of them and closes it after its response, so
// TIME_WAIT piles up on the pool's host. Claims from Tcp.ActiveOpens of the pool's host, the loads' responses
// and the per-peer census; the prediction (report/pool-churn.ts) beside them.
import type { Claim, EvidenceRef, Finding } from '../claims/claim.ts';
import { counter } from '../claims/claim.ts';
import { poolsOf, type PoolEvidence } from '../evidence/pools.ts';
import { capPeer } from '../evidence/time-wait.ts';
import type { HostReport, PoolChurnPrediction } from '../report.ts';
import type { FindingInput } from './rule.ts';
import { n } from './words.ts';

const CURE =
  "a pool that keeps at least as many idle connections as requests come at once (nginx `keepalive N`, N per worker; Node's http.Agent maxFreeSockets; Go's MaxIdleConnsPerHost), or fewer requests at once";

export function poolSmallerThanLoadFindings({ plan, report }: FindingInput): Finding[] {
  return poolsOf(plan, report).flatMap((pool) => {
    const host = report.hosts[pool.owner.host]!;
    const predicted = report.predictions[pool.owner.name]?.poolChurn;
    if (pool.requests === 0 || !predicted) return [];
    return [pool.idleKept < pool.concurrency ? smallPool(pool, host, predicted) : poolCoversLoad(pool, host)];
  });
}

/** The claims of connections opened per request and of TIME_WAIT toward the destination. */
function claimsOf(pool: PoolEvidence, host: HostReport): { claims: Claim[]; timeWait: number } {
  const responses: EvidenceRef[] = pool.loads.map((actor) => ({ from: 'actor-stat', actor, stat: 'responses' }));
  const peers = [pool.dial.to.host];
  const claims: Claim[] = [
    { name: 'requests', value: pool.requests, unit: 'requests', bound: 'exact', derive: 'sum', plus: responses, peers },
  ];
  if (pool.opens !== null) {
    const opens = [counter(pool.owner.host, 'Tcp.ActiveOpens')];
    claims.push({
      name: 'connections',
      value: pool.opens,
      unit: 'connections',
      bound: 'exact',
      derive: 'sum',
      plus: opens,
      peers,
    });
    claims.push({
      name: 'connectionsPerRequest',
      value: pool.opens / pool.requests,
      unit: 'connections per request',
      bound: 'exact',
      derive: 'ratio',
      plus: opens,
      minus: responses,
      peers,
    });
  }
  const timeWait = capPeer(host.peak.peers.ephemeral[pool.destination]?.TIME_WAIT ?? 0, host);
  const cap: EvidenceRef[] = [{ from: 'host-peak', host: pool.owner.host, state: 'TIME_WAIT' }];
  if (host.samples > 0) cap.push({ from: 'sockstat-tw', host: pool.owner.host });
  claims.push({
    name: 'peerTimeWait',
    value: timeWait,
    unit: 'sockets',
    bound: 'exact',
    derive: 'sum',
    plus: [{ from: 'peer-peak', host: pool.owner.host, role: 'ephemeral', peer: pool.destination, state: 'TIME_WAIT' }],
    cap,
    peers,
  });
  return { claims, timeWait };
}

const perRequest = (v: number) => (Math.round(v * 1000) / 1000).toString();

function opensText(pool: PoolEvidence, predicted: PoolChurnPrediction): string {
  const loads = pool.loads.join(', ');
  const expected = `${perRequest(predicted.predictedPerRequest)} ${predicted.arrivals === 'bound' ? 'at most ' : ''}predicted`;
  if (pool.opens === null)
    return ` Another actor of host ${pool.owner.host} connects out too, so its Tcp.ActiveOpens does not count this pool alone; ${expected} per request for ${n(pool.requests)} requests (responses of ${loads}).`;
  return ` Host ${pool.owner.host} opened ${n(pool.opens)} connections (Tcp.ActiveOpens +${n(pool.opens)}) for ${n(pool.requests)} requests (responses of ${loads}): ${perRequest(pool.opens / pool.requests)} per request, ${expected}.`;
}

function smallPool(pool: PoolEvidence, host: HostReport, predicted: PoolChurnPrediction): Finding {
  const { claims, timeWait } = claimsOf(pool, host);
  const c = pool.concurrency;
  const kept = pool.idleKept;
  const at = `${pool.dial.to.actor} on host ${pool.dial.to.host}`;
  let text = `Keep-alive is on at ${pool.owner.name} (host ${pool.owner.host}), but its pool keeps only ${n(kept)} idle connections toward ${pool.destination} (${at}) and ${n(c)} requests come at once`;
  text += pool.waves ? ` (${pool.loads.join(', ')} sends them in bursts)` : ` (at most, from ${pool.loads.join(', ')})`;
  text += `: a request that finds no idle connection opens a new one, and as the responses come back the pool keeps ${n(kept)} and closes the rest, so after the first wave about 1 - ${n(kept)}/${n(c)} = ${perRequest(1 - kept / c)} of the requests open a connection.`;
  text += opensText(pool, predicted);
  if (timeWait > 0) {
    text += ` Each connection it closed first waits 60 s in TIME_WAIT on host ${pool.owner.host}: peak ${n(timeWait)} toward ${pool.destination} (the kernel's sockstat tw peaked at ${n(host.peak.sockstatTw)}), each holding one of that host's ports toward this ip:port.`;
  }
  text += ` What would change it: ${CURE}; keep-alive alone does not help while the pool is smaller than the load.`;
  return { rule: 'pool-smaller-than-load', host: pool.owner.host, peers: [pool.dial.to.host], claims, text };
}

function poolCoversLoad(pool: PoolEvidence, host: HostReport): Finding {
  const { claims, timeWait } = claimsOf(pool, host);
  let text = `The pool of ${pool.owner.name} (host ${pool.owner.host}) keeps ${n(pool.idleKept)} idle connections toward ${pool.destination}, at least the ${n(pool.concurrency)} requests that come at once: the first wave's connections carry the later ones.`;
  if (pool.opens !== null)
    text += ` Host ${pool.owner.host} opened ${n(pool.opens)} connections (Tcp.ActiveOpens +${n(pool.opens)}) for ${n(pool.requests)} requests (responses of ${pool.loads.join(', ')}): ${perRequest(pool.opens / pool.requests)} per request.`;
  text += ` TIME_WAIT toward ${pool.destination} on host ${pool.owner.host} peaked at ${n(timeWait)}.`;
  return { rule: 'pool-smaller-than-load', host: pool.owner.host, peers: [pool.dial.to.host], claims, text };
}
