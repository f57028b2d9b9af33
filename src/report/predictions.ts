// What theory says should happen, next to what the kernel showed: the port budget and its exhaustion time, the
// new-connection rate tcp_tw_reuse can sustain, the connect() slowdown once half the range is held, and the
// TIME_WAIT population on the host that closes first (host-wide where several floods share what is measured).
// Rates are the rate at which connect() was called (attempts, failures included, over the load), not the
// planned rate (the load may not keep up) nor the first second's connections (which exhaustion caps). Each
// prediction names the options and sysctls it accounts for (basis), or says why it does not apply.
import { endpointText } from '../core/ipv6.ts';
import { stat } from './report.ts';
import type { Accept, Dial, OfferedLoad } from '../core/connection-model.ts';
import { floods } from '../core/connection-model.ts';
import type { ActorPlan, Plan } from '../core/plan.ts';
import { connectionsOf } from '../plan/connection-models.ts';
import { fillTimeMs, portBudget, sameParityPorts, TIME_WAIT_SECONDS } from '../core/port-budget.ts';
import { closeOutcome, type CloseOutcome } from './close-outcome.ts';
import { predictPoolChurn } from './pool-churn.ts';
import type {
  ExhaustionPrediction,
  HostReport,
  ParityCliffPrediction,
  Report,
  SustainableRatePrediction,
  TimeWaitPrediction,
} from './report.ts';
import { planLinks } from './evidence/links.ts';
import { predictNatPorts } from './nat-prediction.ts';
import { predictNatRace } from './nat-race-prediction.ts';
import { capPeer } from './evidence/time-wait.ts';
import { n } from './findings/words.ts';
import { formatDuration } from '../core/units.ts';

function ratio(measured: number | null, predicted: number | null): number | null {
  return measured === null || predicted === null || predicted <= 0
    ? null
    : Math.round((measured / predicted) * 1000) / 1000;
}

/** Whether connect() may take over the client's own TIME_WAIT entries here, and why (a server whose sysctls are unknown counts as using timestamps). */
export function twReuse(
  client: Pick<HostReport, 'sysctls'>,
  server: Pick<HostReport, 'sysctls'>,
  destination: string,
): { reuses: boolean; delayMs: number; why: string } {
  const reuse = client.sysctls['net.ipv4.tcp_tw_reuse'];
  const delayMs = Number(client.sysctls['net.ipv4.tcp_tw_reuse_delay'] ?? 1000);
  const loopback = destination.startsWith('127.');
  if (reuse !== '1' && !(reuse === '2' && loopback)) {
    return {
      reuses: false,
      delayMs,
      why:
        reuse === '2'
          ? 'tcp_tw_reuse=2 reuses on loopback only, and this destination is not'
          : `tcp_tw_reuse=${reuse ?? '?'} forbids connect() to reuse them`,
    };
  }
  // The takeover checks the peer's last timestamp, kept in the TIME_WAIT entry: both ends must use timestamps.
  const off = [client, server].some((h) => h.sysctls['net.ipv4.tcp_timestamps'] === '0');
  if (off)
    return {
      reuses: false,
      delayMs,
      why: `tcp_tw_reuse=${reuse} needs TCP timestamps on both ends, and tcp_timestamps=0 turned them off`,
    };
  return {
    reuses: true,
    delayMs,
    why: `tcp_tw_reuse=${reuse} lets connect() take over an entry once it is older than tcp_tw_reuse_delay (${n(delayMs)} ms)`,
  };
}

export function predict(
  plan: Plan,
  hosts: Record<string, HostReport>,
  actors: Report['actors'],
): Report['predictions'] {
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
    const accept = target && connectionsOf(target).accepts;
    const outcome = closeOutcome(dial, accept);
    const load = offeredLoad(model.load, stats);
    const entry: (typeof out)[string] = {};
    // A flood that binds first (localAddress / localPort) draws on other budgets: one port, or a range not
    // shared across destinations. These predictions are for plain connect() only.
    if (dial.localPorts.from === 'range') {
      const exhaustion = predictExhaustion(actor, dial, accept, client, server, stats, outcome, load);
      if (exhaustion) entry.exhaustion = exhaustion;
      const sustainable = predictSustainableRate(actor, dial, client, server, stats, outcome, load);
      if (sustainable) entry.sustainableRate = sustainable;
      const cliff = predictParityCliff(actor, dial, client, server, stats, outcome, load);
      if (cliff) entry.parityCliff = cliff;
    }
    entry.timeWait = predictTimeWait(plan, actor, dial, client, server, stats, outcome);
    out[actor.name] = entry;
  }
  shareTimeWait(out);
  for (const [actor, nat] of Object.entries(predictNatPorts(plan, hosts))) (out[actor] ??= {}).natPorts = nat;
  for (const [actor, race] of Object.entries(predictNatRace(plan, { hosts, actors })))
    (out[actor] ??= {}).natRace = race;
  for (const [name, churn] of Object.entries(predictPoolChurn(plan, { hosts, actors })))
    out[name] = { ...out[name], poolChurn: churn };
  return out;
}

type Stats = Report['actors'][string];

/** The load as it was offered: connect() calls per second over the load, beside the planned rate. */
interface Load {
  /** connect() calls per second over the load, failures included. */
  readonly perSec: number;
  /** The open model's planned rate; null for a closed model. */
  readonly plannedPerSec: number | null;
  /** "connect() called N per s over the load (planned M per s...)", for the bases. */
  readonly text: string;
}

/** Below this share of its planned rate, a load did not keep up. */
const KEPT_UP = 0.95;

function offeredLoad(load: OfferedLoad | undefined, stats: Stats): Load {
  const attempts = stat(stats, 'attempts') ?? 0;
  const durationMs = stat(stats, 'durationMs') ?? 0;
  const perSec = durationMs > 0 ? (attempts / durationMs) * 1000 : 0;
  const plannedPerSec = load?.model === 'open' ? load.ratePerSec : null;
  const missed = stat(stats, 'missedStarts') ?? 0;
  let text = `connect() called ${n(Math.round(perSec))} per s over the load (${n(attempts)} calls, failures included, in ${n(durationMs)} ms)`;
  if (plannedPerSec !== null) {
    text +=
      perSec < plannedPerSec * KEPT_UP
        ? `; ${n(plannedPerSec)} per s were planned and the load could not keep up${missed > 0 ? ` (${n(missed)} starts missed)` : ''}`
        : `, as planned (${n(plannedPerSec)} per s)`;
  }
  return { perSec, plannedPerSec, text };
}

function predictExhaustion(
  actor: ActorPlan,
  dial: Dial,
  accept: Accept | undefined,
  client: HostReport,
  server: HostReport,
  stats: Stats,
  outcome: CloseOutcome,
  load: Load,
): ExhaustionPrediction | undefined {
  const budget = portBudget(client.sysctls);
  const rate = load.perSec;
  if (!budget || rate <= 0) return undefined;
  const errors = stat(stats, 'errors') ?? {};
  const first = errors['EADDRNOTAVAIL']?.firstAtMs;
  const measuredMs = first === undefined ? null : Math.round(first - (stat(stats, 'startedAtMs') ?? 0));
  const fillMs = fillTimeMs(budget.budget, rate)!;
  const reuse = twReuse(client, server, endpointText(dial.to.address, dial.to.port));
  const ports = `${n(budget.budget)} ports / ${n(Math.round(rate))} per s (${load.text})`;
  let predictedMs: number | null = fillMs;
  let basis: string;
  if (outcome.clientHoldsOpen)
    basis = `the client never closes (closeStyle never): every connection keeps its port, ${ports}`;
  else if (outcome.holder === 'client' && !reuse.reuses)
    basis = `the client closes first and keeps each port in TIME_WAIT for ${TIME_WAIT_SECONDS} s (${reuse.why}): ${ports}`;
  else if (outcome.holder === 'client' && fillMs < reuse.delayMs) {
    basis = `${reuse.why}, but the offered rate exceeds the sustainable ${n(budget.budget)} ports / ${n(reuse.delayMs)} ms: the ports fill in ${n(fillMs)} ms, before any entry is that old; ${ports}`;
  } else if (outcome.holder === 'client') {
    predictedMs = null;
    basis = `does not apply: ${reuse.why}, and at ${n(Math.round(rate))} per s the ${n(budget.budget)} ports last longer than that (${load.text})`;
  } else if (outcome.closer === 'client' && outcome.unanswered) {
    // The client's FIN is never answered: FIN_WAIT_2 holds the port while the fd is open (graceful), or for
    // tcp_fin_timeout once it is an orphan (close(2)).
    const finTimeoutMs = Number(client.sysctls['net.ipv4.tcp_fin_timeout'] ?? 60) * 1000;
    if (dial.closeStyle === 'close' && fillMs >= finTimeoutMs) {
      predictedMs = null;
      basis = `does not apply: the server never answers the client's FIN, and each orphaned FIN_WAIT_2 frees its port after tcp_fin_timeout (${n(finTimeoutMs / 1000)} s), before the ${n(budget.budget)} ports fill at ${n(Math.round(rate))} per s`;
    } else
      basis = `the server never answers the client's FIN: each port stays in FIN_WAIT_2 ${dial.closeStyle === 'close' ? `for tcp_fin_timeout (${n(finTimeoutMs / 1000)} s)` : 'while the client keeps its fd'}, ${ports}`;
  } else if (
    outcome.closer === 'client' &&
    dial.closeStyle === 'rst' &&
    dial.giveUpAfterMs !== undefined &&
    accept?.answersAfterMs !== undefined &&
    accept.answersAfterMs >= dial.giveUpAfterMs
  ) {
    // No TIME_WAIT, but no connection ends before the client gives it up: each holds its port that long.
    const heldMs = dial.giveUpAfterMs;
    const held = `the server holds each connection ${n(accept.answersAfterMs)} ms without an answer and the client gives it up after its idleTimeout (${n(heldMs)} ms), by RST (closeStyle rst): each port is busy ${n(heldMs)} ms, so ${n(Math.round((rate * heldMs) / 1000))} ports are wanted at once`;
    if (fillMs < heldMs) basis = `${held}, more than the ${n(budget.budget)} there are: ${ports}`;
    else {
      predictedMs = null;
      basis = `does not apply: ${held}, within the ${n(budget.budget)} there are (${load.text})`;
    }
  } else {
    predictedMs = null;
    basis = `does not apply: ${outcome.why}, so the client's ports are free as each connection ends`;
  }
  return {
    actor: actor.name,
    host: actor.host,
    portBudget: budget.budget,
    portRange: budget.range,
    connectRate: Math.round(rate * 10) / 10,
    plannedRate: load.plannedPerSec,
    predictedMs,
    measuredMs,
    ratio: ratio(measuredMs, predictedMs),
    basis,
  };
}

/**
 * Under tcp_tw_reuse the client's ports cycle: each TIME_WAIT entry may be taken over once it is
 * tcp_tw_reuse_delay old, so at most (ports) / (delay) new connections per second; connect() takes the
 * ports of the range's low-end parity first and spills into the other half only when the first half has
 * none old enough. Above that rate, connect() fails with EADDRNOTAVAIL for the rest.
 */
function predictSustainableRate(
  actor: ActorPlan,
  dial: Dial,
  client: HostReport,
  server: HostReport,
  stats: Stats,
  outcome: CloseOutcome,
  load: Load,
): SustainableRatePrediction | undefined {
  const budget = portBudget(client.sysctls);
  const reuse = twReuse(client, server, endpointText(dial.to.address, dial.to.port));
  if (!budget || outcome.holder !== 'client' || outcome.clientHoldsOpen || !reuse.reuses || reuse.delayMs <= 0)
    return undefined;
  const predicted = Math.round((budget.budget / reuse.delayMs) * 1000 * 10) / 10;
  const half = sameParityPorts(budget.range);
  const durationMs = stat(stats, 'durationMs') ?? 0;
  const connected = stat(stats, 'connected') ?? 0;
  const exceeded = load.perSec > predicted;
  // Averaged over the load: ports come back a whole delay after they were taken, so it matches over whole delays.
  const measured = exceeded && durationMs > 0 ? Math.round((connected / durationMs) * 1000 * 10) / 10 : null;
  const basis =
    `${reuse.why}: ${n(budget.budget)} ports (ip_local_port_range ${budget.range}) / ${n(reuse.delayMs)} ms = ${n(predicted)} new connections per s at most; connect() cycles the ${n(half)} ports of the low end's parity first (${n(Math.round((half / reuse.delayMs) * 1000))} per s) and takes the other half beyond that. ` +
    (exceeded
      ? `${load.text}: more than that, so connect() fails with EADDRNOTAVAIL for the rest once the ports fill (measured: connections made per s over the load)`
      : `${load.text}: within it, so nothing is measured against it`);
  return {
    actor: actor.name,
    host: actor.host,
    usablePorts: budget.budget,
    delayMs: reuse.delayMs,
    predicted,
    offered: Math.round(load.perSec * 10) / 10,
    measured,
    ratio: ratio(measured, predicted),
    basis,
  };
}

/**
 * What one port of a connect() scan costs on 6.18 (KERNEL.md, turn 3): with 20,500 ports of one parity held,
 * a 3,000/s flood fell to 300-550 connections per s, about 2.35 ms a scan, ~115 ns a port.
 */
const SCAN_NS_PER_PORT = 115;

/**
 * connect() walks the ports of the range's low-end parity before the other half: once that half is held
 * (TIME_WAIT not taken over), every connect() scans all of it first, and the new-connection rate falls.
 */
function predictParityCliff(
  actor: ActorPlan,
  dial: Dial,
  client: HostReport,
  server: HostReport,
  stats: Stats,
  outcome: CloseOutcome,
  load: Load,
): ParityCliffPrediction | undefined {
  const budget = portBudget(client.sysctls);
  const reuse = twReuse(client, server, endpointText(dial.to.address, dial.to.port));
  const heldByClient = outcome.clientHoldsOpen || (outcome.holder === 'client' && !reuse.reuses);
  if (!budget || !heldByClient || load.perSec <= 0) return undefined;
  const half = sameParityPorts(budget.range);
  const connected = stat(stats, 'connected') ?? 0;
  const durationMs = stat(stats, 'durationMs') ?? 0;
  // Expected from the load: connections it would make without the cliff, and whether they pass the half.
  const expected = Math.min(budget.budget, (load.perSec * durationMs) / 1000);
  const scanBound = 1e9 / (half * SCAN_NS_PER_PORT);
  if ((expected <= half && connected <= half) || scanBound >= load.perSec) return undefined;
  const predictedAtMs = Math.round((half / load.perSec) * 1000);
  const slowed = Math.round(scanBound);
  const basis = `connect() tries the ${n(half)} ports of ip_local_port_range ${budget.range} with its low end's parity first; the client holds each port (${outcome.clientHoldsOpen ? 'never closing' : `TIME_WAIT, ${reuse.why}`}), so after ${n(half)} connections (${formatDuration(predictedAtMs)} at ${n(Math.round(load.perSec))} per s; ${load.text}) every connect() scans that whole half before the other, about ${SCAN_NS_PER_PORT} ns a port: about ${n(slowed)} connections per s from there, below the offered rate. This run made ${n(connected)} connections${connected > half ? ', past the half' : ', short of the half'}.`;
  return {
    actor: actor.name,
    host: actor.host,
    halfPorts: half,
    predictedAtMs,
    slowedRate: slowed,
    connected,
    crossed: connected > half,
    basis,
  };
}

function predictTimeWait(
  plan: Plan,
  actor: ActorPlan,
  dial: Dial,
  client: HostReport,
  server: HostReport,
  stats: Stats,
  outcome: CloseOutcome,
): TimeWaitPrediction {
  // Every connection closed with a FIN answered by a FIN makes one entry; none leaves before 60 s but by takeover.
  const connected = stat(stats, 'connected') ?? 0;
  const durationMs = stat(stats, 'durationMs') ?? 0;
  const byRate = Math.round(
    durationMs > TIME_WAIT_SECONDS * 1000 ? (connected / durationMs) * TIME_WAIT_SECONDS * 1000 : connected,
  );
  const hostName = outcome.closer === 'client' ? actor.host : dial.to.host;
  const holder = outcome.closer === 'client' ? client : server;
  const destination = endpointText(dial.to.address, dial.to.port);
  const budget = portBudget(client.sysctls);
  const localPort = dial.localPorts.from === 'fixed' ? dial.localPorts.port : undefined;
  // Measured on the link: the client's TIME_WAIT toward this destination, or the server's from the address it
  // sees the client as (its own, a bound one, or a masquerading gateway's, which then picks the ports too).
  const link = planLinks(plan).find((l) => l.client === actor.host && l.server === dial.to.host);
  const natted = link?.via;
  const measuredOn =
    outcome.closer === 'client' ? `${actor.host}>${destination}` : `${dial.to.host}<${link?.seenAs ?? ''}`;
  const measured =
    outcome.closer === 'client'
      ? capPeer(client.peak.peers.ephemeral[destination]?.TIME_WAIT ?? 0, client, budget?.budget)
      : capPeer(server.peak.peers.listen[link?.seenAs ?? '']?.TIME_WAIT ?? 0, server);
  const buckets = Number(holder.sysctls['net.ipv4.tcp_max_tw_buckets'] ?? Infinity);
  const cap = (v: number, why: string) =>
    buckets < v ? { v: buckets, why: `${why}, capped by tcp_max_tw_buckets ${n(buckets)}` } : { v, why };
  const made = `connections closed = ${n(byRate)}${durationMs > TIME_WAIT_SECONDS * 1000 ? ` (the last ${TIME_WAIT_SECONDS} s of the load)` : ''}`;
  let predicted: number | null;
  let basis: string;
  if (outcome.holder === 'none') {
    predicted = 0;
    basis = outcome.why;
  } else if (outcome.holder === 'client') {
    const reuse = twReuse(client, server, destination);
    if (localPort !== undefined)
      ({ v: predicted, why: basis } = cap(
        Math.min(1, byRate),
        `one local port (localPort ${localPort}): one 4-tuple, so one TIME_WAIT at a time`,
      ));
    else if (dial.localPorts.from === 'bind-before-connect') {
      predicted = null;
      basis = "does not apply: bind(ip, 0) draws every destination's ports from one budget per host";
    } else if (!budget) {
      predicted = null;
      basis = 'does not apply: no ip_local_port_range was read back';
    } else if (reuse.reuses) {
      // connect() takes the first port of its scan that is free or holds an entry older than the delay, in the
      // low-end parity's half first: that half alone cycles half / delay per s. Below that rate the population
      // settles at the half; above it connect() spills into the other half, whose free ports it takes as well.
      const half = sameParityPorts(budget.range);
      const halfRate = (half / reuse.delayMs) * 1000;
      const rate = durationMs > 0 ? (connected / durationMs) * 1000 : 0;
      const settles = rate <= halfRate ? half : budget.budget;
      ({ v: predicted, why: basis } = cap(
        Math.min(byRate, settles),
        `${reuse.why}: connect() cycles the ${n(half)} ports of the range's low-end parity first, ${n(Math.round(halfRate))} per s at most; ${n(Math.round(rate))} connections per s ${rate <= halfRate ? 'fit in that half' : 'spill into the other half'}, so min(${made}, ${rate <= halfRate ? `${n(half)} ports of that half` : `${n(budget.budget)} ports`})`,
      ));
    } else {
      ({ v: predicted, why: basis } = cap(
        Math.min(byRate, budget.budget),
        `${outcome.why}; ${reuse.why}: min(${made}, ${n(budget.budget)} ports)`,
      ));
    }
  } else if (natted) {
    predicted = null;
    basis = `does not apply: behind gateway ${natted}, the server sees every client under the gateway's address, with ports the gateway chose`;
  } else {
    // The server's TIME_WAIT holds one entry per client 4-tuple: a new SYN on the same 4-tuple takes the entry
    // over (RFC 6191). A client that holds no TIME_WAIT itself gets every port of connect()'s preferred parity.
    const tuples = localPort !== undefined ? 1 : budget ? sameParityPorts(budget.range) : Infinity;
    ({ v: predicted, why: basis } = cap(
      Math.min(byRate, tuples),
      `${outcome.why}; a new SYN takes over the server's entry on the same 4-tuple (RFC 6191), so min(${made}, ${localPort !== undefined ? 'one client port' : `the client's ${Number.isFinite(tuples) ? n(tuples) : 'unknown'} ports of its range's low-end parity`})`,
    ));
  }
  return {
    actor: actor.name,
    host: hostName,
    closer: outcome.holder === 'none' ? 'none' : outcome.closer,
    predicted,
    measured,
    ratio: ratio(measured, predicted),
    ofPortBudget:
      outcome.closer === 'client' && budget && localPort === undefined ? ratio(measured, budget.budget) : null,
    measuredOn,
    basis,
  };
}

/**
 * Floods whose TIME_WAIT is measured in one place (one client host toward one destination, or one server from
 * one source address) share that count: each is compared with the sum of their predictions, host-wide.
 */
function shareTimeWait(out: Report['predictions']): void {
  const groups = new Map<string, TimeWaitPrediction[]>();
  for (const p of Object.values(out))
    if (p.timeWait?.measuredOn)
      groups.set(p.timeWait.measuredOn, [...(groups.get(p.timeWait.measuredOn) ?? []), p.timeWait]);
  for (const group of groups.values()) {
    if (group.length < 2 || group.some((p) => p.predicted === null)) continue;
    const total = group.reduce((sum, p) => sum + p.predicted!, 0);
    const buckets = group[0]!;
    const actors = group.map((p) => p.actor);
    for (const p of group) {
      p.sharedWith = actors.filter((a) => a !== p.actor);
      p.predictedTogether = total;
      p.ratio = ratio(p.measured, total);
      p.basis = `${p.basis}; host ${buckets.host} counts the TIME_WAIT of ${actors.join(', ')} together, so its measured ${n(p.measured)} is compared with their predictions added up: ${n(total)}`;
    }
  }
}
