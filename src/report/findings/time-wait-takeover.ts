import { stat } from '../report.ts';
import { connectionsOf } from '../../plan/connection-models.ts';
import { portBudget, sameParityPorts, TIME_WAIT_SECONDS } from '../../core/port-budget.ts';
import { evidenceOf, groupConnections, peerKeys, type CloserEvidence } from '../evidence/closer.ts';
import { planLinks } from '../evidence/links.ts';
import { timeWaitCount } from '../evidence/time-wait.ts';
import {
  actorStat,
  counter,
  hostFinal,
  hostPeak,
  peerPeak,
  portBudgetRef,
  sockstatTw,
  type Finding,
} from '../claims/claim.ts';
import { firstClosesClaim } from '../claims/closer-claims.ts';
import { ClaimSet } from '../claims/measure.ts';
import type { FindingInput } from './rule.ts';
import { capitalised, hostsWords, n } from './words.ts';

/**
 * TIME_WAIT entries that left before their 60 s on the side that listens: a new SYN on the same 4-tuple
 * takes the entry over (RFC 6191). No counter counts that, so the rule accounts for every other way out, and
 * speaks only of the clients whose connections the server closed first (by the kernels' first-close counts).
 */
export function timeWaitTakeoverFindings(input: FindingInput): Finding[] {
  const { plan, report } = input;
  const out: Finding[] = [];
  if (report.durationMs >= TIME_WAIT_SECONDS * 1000) return out;
  const links = planLinks(plan);
  for (const [name, host] of Object.entries(report.hosts)) {
    const d = host.counters.delta;
    const tw = timeWaitCount(host);
    const listening = tw.split?.listen ?? host.peak.listen.TIME_WAIT;
    // A host that also holds TIME_WAIT as a client mixes both kinds in TcpExt.TW: only a pure server side is accounted.
    const connecting = tw.split?.ephemeral ?? host.peak.ephemeral.TIME_WAIT;
    if (listening === 0 || connecting > 0 || (d['TcpExt.TW'] ?? 0) <= tw.peak) continue;
    // TcpExt.TW also counts FIN_WAIT_2 entries with a timer above 4 s: only a run without them is accounted here.
    if (host.peak.total.FIN_WAIT2 > 0 && host.peak.sockstatTw > host.peak.total.TIME_WAIT) continue;
    const served = evidenceOf(report.hosts, links, name).filter(
      (e) => e.serverHost === name && (e.first === 'server' || e.first === 'mixed'),
    );
    if (served.length === 0) continue;
    const set = new ClaimSet({ plan, report });
    const clientHosts = [...new Set(served.flatMap((e) => e.clientHosts))];
    const its = { peers: clientHosts };
    const entered = set.add({
      name: 'counter',
      of: 'TcpExt.TW',
      unit: 'count',
      plus: [counter(name, 'TcpExt.TW')],
      ...its,
    });
    const peak = set.add({
      name: 'timeWaitPeak',
      unit: 'sockets',
      plus: [hostPeak(name, 'TIME_WAIT')],
      cap: host.samples > 0 ? [sockstatTw(name)] : [],
      peers: [],
    });
    const left = set.add({
      name: 'stateFinal',
      of: 'TIME_WAIT',
      unit: 'sockets',
      plus: [hostFinal(name, 'TIME_WAIT')],
      peers: [],
    });
    const early = set.add({
      name: 'timeWaitLeftEarly',
      unit: 'connections',
      plus: [counter(name, 'TcpExt.TW')],
      minus: [hostFinal(name, 'TIME_WAIT')],
      ...its,
    });
    const peerRsts = set.add({
      name: 'counter',
      of: 'Tcp.OutRsts',
      unit: 'count',
      plus: clientHosts.filter((c) => report.hosts[c]).map((c) => counter(c, 'Tcp.OutRsts')),
      ...its,
    });
    const rfc1337 = host.sysctls['net.ipv4.tcp_rfc1337'] === '1';
    let s = `On host ${name}, ${n(entered.value)} connections entered TIME_WAIT (TcpExt.TW +${n(entered.value)}), yet at most ${n(peak.value)} were there at once and ${n(left.value)} at the end: in a run shorter than ${TIME_WAIT_SECONDS} s, ${n(early.value)} entries left TIME_WAIT early.`;
    if (peerRsts.value === 0 || rfc1337) {
      const recycled = set.add({
        name: 'counter',
        of: 'TcpExt.TWRecycled',
        unit: 'count',
        plus: [counter(name, 'TcpExt.TWRecycled')],
        ...its,
      });
      s += ` Not by their timer (${TIME_WAIT_SECONDS} s), not by an RST (${rfc1337 ? 'tcp_rfc1337=1 ignores them' : `its clients' hosts sent none: Tcp.OutRsts ${n(peerRsts.value)}`}): each was taken over by the client's next SYN on the same 4-tuple, which the kernel accepts when its timestamp (or sequence number) is newer than the old connection's (RFC 6191), ending the old entry. No TcpExt or Tcp counter counts this (TcpExt.TWRecycled +${n(recycled.value)} here; it counts connect()'s reuse of its own TIME_WAIT, on the client side).`;
    } else {
      s += ` Their clients' hosts sent ${n(peerRsts.value)} RSTs, which also end TIME_WAIT entries (tcp_rfc1337=0), so the takeover by new SYNs cannot be told apart here.`;
    }
    for (const e of served) s += clientClause(input, set, name, e);
    s +=
      " Whoever closes first holds the TIME_WAIT: with the server closing, the client's ports are free as soon as each connection ends, and the server's TIME_WAIT stays bounded by the client's 4-tuples instead of growing with the rate.";
    out.push(set.finding('time-wait-takeover', name, clientHosts, s));
  }
  return out;
}

/** What one peer group's clients made, and how much TIME_WAIT the server held under their source address. */
function clientClause({ plan, report }: FindingInput, set: ClaimSet, server: string, e: CloserEvidence): string {
  const serverHost = report.hosts[server]!;
  const its = { peers: [...e.clientHosts] };
  const held = set.add({
    name: 'peerTimeWait',
    unit: 'sockets',
    plus: peerKeys(serverHost, e.links, 'server').map((k) => peerPeak(server, k.role, k.peer, 'TIME_WAIT')),
    cap: [hostPeak(server, 'TIME_WAIT'), ...(serverHost.samples > 0 ? [sockstatTw(server)] : [])],
    ...its,
    end: 'server',
  });
  const actors = e.links.flatMap((l) => l.clientActors);
  // Clients that count their connections say so; a proxy does not, and the server's Tcp.PassiveOpens stands in.
  const counted = actors.every((a) => typeof stat(report.actors[a], 'connected') === 'number');
  const made = counted
    ? { refs: actors.map((a) => actorStat(a, 'connected')), basis: '' }
    : groupConnections(report.hosts, planLinks(plan), e, () => undefined);
  const conns = made ? set.add({ name: 'connections', unit: 'connections', plus: made.refs, ...its }) : undefined;
  const basis = made?.basis ? ` (${made.basis})` : '';
  const count = conns ? n(conns.value) : 'an unknown number of';
  const via = e.links.find((l) => l.via)?.via;
  if (via || e.clientHosts.length > 1) {
    return ` ${capitalised(hostsWords(e.clientHosts))} reach host ${server} through gateway ${via}, whose masquerade address ${e.seenAs} is the one source address host ${server} saw: it held up to ${n(held.value)} TIME_WAIT under that address for their ${count} connections${basis}, one per 4-tuple the gateway used; which client an entry belonged to cannot be told from host ${server}.`;
  }
  const client = e.clientHosts[0]!;
  const actor = plan.actors[actors[0]!]!;
  const errorCounted = actors.every((a) => typeof stat(report.actors[a], 'errorCount') === 'number');
  const errors = errorCounted
    ? set.add({
        name: 'errors',
        of: 'any',
        unit: 'errors',
        plus: actors.map((a) => actorStat(a, 'errorCount')),
        ...its,
      })
    : undefined;
  const ports = connectionsOf(actor).dials[0]?.localPorts;
  const localPort = ports?.from === 'fixed' ? ports.port : undefined;
  const budget = portBudget(report.hosts[client]?.sysctls ?? {});
  const range =
    localPort === undefined && budget
      ? set.add({ name: 'portBudget', unit: 'ports', plus: [portBudgetRef(client, budget.budget)], ...its })
      : undefined;
  const through =
    localPort !== undefined
      ? ` from its one local port ${localPort}`
      : budget && range
        ? ` through its ${n(range.value)}-port range ${budget.range}`
        : '';
  let s = ` Host ${client} (actor ${actors.join(', ')}) made ${count} connections${basis}${through}${errors ? ` with ${n(errors.value)} errors` : ''}, and host ${server} held at most ${n(held.value)} TIME_WAIT from it: one per 4-tuple it used`;
  if (e.first === 'mixed') {
    const own = set.keep(firstClosesClaim(report.hosts, e, 'client', server));
    if (own) s += ` (host ${client} closed first on ${n(own.value)} of them itself)`;
  }
  const half = localPort === undefined && budget ? sameParityPorts(budget.range) : undefined;
  if (half !== undefined && held.value === half && conns && made) {
    const parity = set.add({ name: 'sameParityPorts', unit: 'ports', plus: [portBudgetRef(client, half)], ...its });
    const uses = set.add({
      name: 'usesPerPort',
      unit: 'connections',
      derive: 'ratio',
      plus: made.refs,
      minus: [portBudgetRef(client, half)],
      ...its,
    });
    s += `, exactly the ${n(parity.value)} ports of the range with its low end's parity, the half connect() tries first: holding no TIME_WAIT itself, the client found one of them free every time, so each was used about ${n(Math.round(uses.value))} times.`;
  } else {
    s += '.';
  }
  return s;
}
