// What theory says should happen, next to what the kernel showed: the port budget and its exhaustion
// time, and the TIME_WAIT population on the host that closes first. Each prediction names the options and
// sysctls it accounts for (basis), and where they make it meaningless it says so instead of giving a number.
import { stat } from './report.ts';
import type { Dial } from '../core/connection-model.ts';
import { floods } from '../core/connection-model.ts';
import type { ActorPlan, Plan } from '../core/plan.ts';
import { connectionsOf } from '../plan/connection-models.ts';
import { fillTimeMs, portBudget, sameParityPorts, TIME_WAIT_SECONDS } from '../core/port-budget.ts';
import { closeOutcome, type CloseOutcome } from './close-outcome.ts';
import type { ExhaustionPrediction, HostReport, Report, TimeWaitPrediction } from './report.ts';
import { planLinks } from './evidence/links.ts';
import { capPeer } from './evidence/time-wait.ts';
import { n } from './findings/words.ts';

function ratio(measured: number | null, predicted: number | null): number | null {
  return measured === null || predicted === null || predicted <= 0 ? null : Math.round((measured / predicted) * 1000) / 1000;
}


/** Whether connect() may take over the client's own TIME_WAIT entries here, and why (a server whose sysctls are unknown counts as using timestamps). */
export function twReuse(client: Pick<HostReport, 'sysctls'>, server: Pick<HostReport, 'sysctls'>, destination: string): { reuses: boolean; delayMs: number; why: string } {
  const reuse = client.sysctls['net.ipv4.tcp_tw_reuse'];
  const delayMs = Number(client.sysctls['net.ipv4.tcp_tw_reuse_delay'] ?? 1000);
  const loopback = destination.startsWith('127.');
  if (reuse !== '1' && !(reuse === '2' && loopback)) {
    return { reuses: false, delayMs, why: reuse === '2' ? 'tcp_tw_reuse=2 reuses on loopback only, and this destination is not' : `tcp_tw_reuse=${reuse ?? '?'} forbids connect() to reuse them` };
  }
  // The takeover checks the peer's last timestamp, kept in the TIME_WAIT entry: both ends must use timestamps.
  const off = [client, server].some((h) => h.sysctls['net.ipv4.tcp_timestamps'] === '0');
  if (off) return { reuses: false, delayMs, why: `tcp_tw_reuse=${reuse} needs TCP timestamps on both ends, and tcp_timestamps=0 turned them off` };
  return { reuses: true, delayMs, why: `tcp_tw_reuse=${reuse} lets connect() take over an entry once it is older than tcp_tw_reuse_delay (${n(delayMs)} ms)` };
}

export function predict(plan: Plan, hosts: Record<string, HostReport>, actors: Report['actors']): Report['predictions'] {
  const out: Report['predictions'] = {};
  for (const actor of Object.values(plan.actors)) {
    const model = connectionsOf(actor);
    const dial = model.dials[0];
    if (!floods(model) || !dial) continue;
    const stats = actors[actor.name];
    const client = hosts[actor.host];
    const server = hosts[dial.to.host];
    if (!stats || !client || !server) continue;
    const target = plan.actors[dial.to.actor];
    const outcome = closeOutcome(dial, target && connectionsOf(target).accepts);
    const entry: (typeof out)[string] = {};
    // A flood that binds first (localAddress / localPort) draws on other budgets: one port, or a range not
    // shared across destinations. The EADDRNOTAVAIL prediction is for plain connect() only.
    const exhaustion = dial.localPorts.from !== 'range' ? undefined : predictExhaustion(actor, dial, client, server, stats, outcome);
    if (exhaustion) entry.exhaustion = exhaustion;
    entry.timeWait = predictTimeWait(plan, actor, dial, client, server, stats, outcome);
    out[actor.name] = entry;
  }
  return out;
}

type Stats = Report['actors'][string];

function predictExhaustion(actor: ActorPlan, dial: Dial, client: HostReport, server: HostReport, stats: Stats, outcome: CloseOutcome): ExhaustionPrediction | undefined {
  const budget = portBudget(client.sysctls);
  const connectRate = stat(stats, 'connectRate') ?? 0;
  if (!budget || connectRate <= 0) return undefined;
  const errors = stat(stats, 'errors') ?? {};
  const first = errors['EADDRNOTAVAIL']?.firstAtMs;
  const measuredMs = first === undefined ? null : Math.round(first - (stat(stats, 'startedAtMs') ?? 0));
  const fillMs = fillTimeMs(budget.budget, connectRate)!;
  const destination = `${dial.to.address}:${dial.to.port}`;
  const reuse = twReuse(client, server, destination);
  let predictedMs: number | null = fillMs;
  let basis: string;
  if (outcome.clientHoldsOpen) basis = `the client never closes (closeStyle never): every connection keeps its port, ${n(budget.budget)} ports / ${Math.round(connectRate)} per s`;
  else if (outcome.holder === 'client' && !reuse.reuses) basis = `the client closes first and keeps each port in TIME_WAIT for ${TIME_WAIT_SECONDS} s (${reuse.why}): ${n(budget.budget)} ports / ${Math.round(connectRate)} per s`;
  else if (outcome.holder === 'client' && fillMs < reuse.delayMs) basis = `${reuse.why}, but the ${n(budget.budget)} ports fill in ${n(fillMs)} ms, before any entry is that old`;
  else if (outcome.holder === 'client') {
    predictedMs = null;
    basis = `does not apply: ${reuse.why}, and at ${Math.round(connectRate)} per s the ${n(budget.budget)} ports last longer than that`;
  } else if (outcome.closer === 'client' && outcome.unanswered) {
    // The client's FIN is never answered: FIN_WAIT_2 holds the port while the fd is open (graceful), or for
    // tcp_fin_timeout once it is an orphan (close(2)).
    const finTimeoutMs = Number(client.sysctls['net.ipv4.tcp_fin_timeout'] ?? 60) * 1000;
    if (dial.closeStyle === 'close' && fillMs >= finTimeoutMs) {
      predictedMs = null;
      basis = `does not apply: the server never answers the client's FIN, and each orphaned FIN_WAIT_2 frees its port after tcp_fin_timeout (${n(finTimeoutMs / 1000)} s), before the ${n(budget.budget)} ports fill at ${Math.round(connectRate)} per s`;
    } else basis = `the server never answers the client's FIN: each port stays in FIN_WAIT_2 ${dial.closeStyle === 'close' ? `for tcp_fin_timeout (${n(finTimeoutMs / 1000)} s)` : 'while the client keeps its fd'}, ${n(budget.budget)} ports / ${Math.round(connectRate)} per s`;
  } else {
    predictedMs = null;
    basis = `does not apply: ${outcome.why}, so the client's ports are free as each connection ends`;
  }
  return {
    actor: actor.name,
    host: actor.host,
    portBudget: budget.budget,
    portRange: budget.range,
    connectRate: Math.round(connectRate * 10) / 10,
    predictedMs,
    measuredMs,
    ratio: ratio(measuredMs, predictedMs),
    basis,
  };
}

function predictTimeWait(plan: Plan, actor: ActorPlan, dial: Dial, client: HostReport, server: HostReport, stats: Stats, outcome: CloseOutcome): TimeWaitPrediction {
  const connectRate = stat(stats, 'connectRate') ?? 0;
  const durationMs = stat(stats, 'durationMs') ?? 0;
  const byRate = Math.round(connectRate * Math.min(durationMs / 1000, TIME_WAIT_SECONDS));
  const hostName = outcome.closer === 'client' ? actor.host : dial.to.host;
  const holder = outcome.closer === 'client' ? client : server;
  const destination = `${dial.to.address}:${dial.to.port}`;
  const budget = portBudget(client.sysctls);
  const localPort = dial.localPorts.from === 'fixed' ? dial.localPorts.port : undefined;
  // Measured on the link: the client's TIME_WAIT toward this destination, or the server's from the address it
  // sees the client as (its own, a bound one, or a masquerading gateway's, which then picks the ports too).
  const link = planLinks(plan).find((l) => l.client === actor.host && l.server === dial.to.host);
  const natted = link?.via;
  const measured = outcome.closer === 'client'
    ? capPeer(client.peak.peers.ephemeral[destination]?.TIME_WAIT ?? 0, client, budget?.budget)
    : capPeer(server.peak.peers.listen[link?.seenAs ?? '']?.TIME_WAIT ?? 0, server);
  const buckets = Number(holder.sysctls['net.ipv4.tcp_max_tw_buckets'] ?? Infinity);
  const cap = (v: number, why: string) => (buckets < v ? { v: buckets, why: `${why}, capped by tcp_max_tw_buckets ${n(buckets)}` } : { v, why });
  let predicted: number | null;
  let basis: string;
  if (outcome.holder === 'none') {
    predicted = 0;
    basis = outcome.why;
  } else if (outcome.holder === 'client') {
    const reuse = twReuse(client, server, destination);
    if (localPort !== undefined) ({ v: predicted, why: basis } = cap(Math.min(1, byRate), `one local port (localPort ${localPort}): one 4-tuple, so one TIME_WAIT at a time`));
    else if (dial.localPorts.from === 'bind-before-connect') {
      predicted = null;
      basis = 'does not apply: bind(ip, 0) draws every destination\'s ports from one budget per host';
    } else if (!budget) {
      predicted = null;
      basis = 'does not apply: no ip_local_port_range was read back';
    } else if (reuse.reuses) {
      // connect() scans the ports of the range's low-end parity first and takes over the first entry older than
      // the delay: the population settles at that half, or at rate x delay when the half cycles faster.
      const cycle = Math.max(sameParityPorts(budget.range), Math.ceil((connectRate * reuse.delayMs) / 1000));
      ({ v: predicted, why: basis } = cap(Math.min(byRate, budget.budget, cycle), `${reuse.why}: connect() tries the ${n(sameParityPorts(budget.range))} ports of the range's low-end parity first, so min(rate x min(run, ${TIME_WAIT_SECONDS} s) = ${n(byRate)}, ${n(budget.budget)} ports, max(${n(sameParityPorts(budget.range))}, rate x delay))`));
    } else {
      ({ v: predicted, why: basis } = cap(Math.min(byRate, budget.budget), `${outcome.why}; ${reuse.why}: min(rate x min(run, ${TIME_WAIT_SECONDS} s) = ${n(byRate)}, ${n(budget.budget)} ports)`));
    }
  } else if (natted) {
    predicted = null;
    basis = `does not apply: behind gateway ${natted}, the server sees every client under the gateway's address, with ports the gateway chose`;
  } else {
    // The server's TIME_WAIT holds one entry per client 4-tuple: a new SYN on the same 4-tuple takes the entry
    // over (RFC 6191). A client that holds no TIME_WAIT itself gets every port of connect()'s preferred parity.
    const tuples = localPort !== undefined ? 1 : budget ? sameParityPorts(budget.range) : Infinity;
    ({ v: predicted, why: basis } = cap(Math.min(byRate, tuples), `${outcome.why}; a new SYN takes over the server's entry on the same 4-tuple (RFC 6191), so min(rate x min(run, ${TIME_WAIT_SECONDS} s) = ${n(byRate)}, ${localPort !== undefined ? 'one client port' : `the client's ${Number.isFinite(tuples) ? n(tuples) : 'unknown'} ports of its range's low-end parity`})`));
  }
  return {
    actor: actor.name,
    host: hostName,
    closer: outcome.holder === 'none' ? 'none' : outcome.closer,
    predicted,
    measured,
    ratio: ratio(measured, predicted),
    ofPortBudget: outcome.closer === 'client' && budget && localPort === undefined ? ratio(measured, budget.budget) : null,
    basis,
  };
}
