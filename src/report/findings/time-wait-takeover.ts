import { stat } from '../report.ts';
import { connectionsOf } from '../../plan/connection-models.ts';
import { portBudget, sameParityPorts, TIME_WAIT_SECONDS } from '../../core/port-budget.ts';
import { evidenceOf, groupConnections, type CloserEvidence } from '../evidence/closer.ts';
import { hostsText } from '../evidence/closes-text.ts';
import { planLinks } from '../evidence/links.ts';
import { timeWaitCount } from '../evidence/time-wait.ts';
import type { FindingInput } from './rule.ts';
import { n } from './words.ts';

/**
 * TIME_WAIT entries that left before their 60 s on the side that listens: a new SYN on the same 4-tuple
 * takes the entry over (RFC 6191). No counter counts that, so the rule accounts for every other way out, and
 * speaks only of the clients whose connections the server closed first (by the kernels' first-close counts).
 */
export function timeWaitTakeoverFindings(input: FindingInput): string[] {
  const { plan, report } = input;
  const out: string[] = [];
  if (report.durationMs >= TIME_WAIT_SECONDS * 1000) return out;
  const links = planLinks(plan);
  for (const [name, host] of Object.entries(report.hosts)) {
    const d = host.counters.delta;
    const entered = d['TcpExt.TW'] ?? 0;
    const tw = timeWaitCount(host);
    const listening = tw.split?.listen ?? host.peak.listen.TIME_WAIT;
    // A host that also holds TIME_WAIT as a client mixes both kinds in TcpExt.TW: only a pure server side is accounted.
    const connecting = tw.split?.ephemeral ?? host.peak.ephemeral.TIME_WAIT;
    if (listening === 0 || connecting > 0 || entered <= tw.peak) continue;
    // TcpExt.TW also counts FIN_WAIT_2 entries with a timer above 4 s: only a run without them is accounted here.
    if (host.peak.total.FIN_WAIT2 > 0 && host.peak.sockstatTw > host.peak.total.TIME_WAIT) continue;
    const served = evidenceOf(report.hosts, links, name).filter((e) => e.serverHost === name && (e.first === 'server' || e.first === 'mixed'));
    if (served.length === 0) continue;
    const early = entered - host.final.TIME_WAIT;
    const clientHosts = [...new Set(served.flatMap((e) => e.clientHosts))];
    const peerRsts = clientHosts.reduce((sum, c) => sum + (report.hosts[c]?.counters.delta['Tcp.OutRsts'] ?? 0), 0);
    const rfc1337 = host.sysctls['net.ipv4.tcp_rfc1337'] === '1';
    let s = `On host ${name}, ${n(entered)} connections entered TIME_WAIT (TcpExt.TW +${n(entered)}), yet at most ${n(tw.peak)} were there at once and ${n(host.final.TIME_WAIT)} at the end: in a run shorter than ${TIME_WAIT_SECONDS} s, ${n(early)} entries left TIME_WAIT early.`;
    if (peerRsts === 0 || rfc1337) {
      s += ` Not by their timer (${TIME_WAIT_SECONDS} s), not by an RST (${rfc1337 ? 'tcp_rfc1337=1 ignores them' : `its clients' hosts sent none: Tcp.OutRsts 0`}): each was taken over by the client's next SYN on the same 4-tuple, which the kernel accepts when its timestamp (or sequence number) is newer than the old connection's (RFC 6191), ending the old entry. No TcpExt or Tcp counter counts this (TcpExt.TWRecycled +${n(d['TcpExt.TWRecycled'] ?? 0)} here; it counts connect()'s reuse of its own TIME_WAIT, on the client side).`;
    } else {
      s += ` Their clients' hosts sent ${n(peerRsts)} RSTs, which also end TIME_WAIT entries (tcp_rfc1337=0), so the takeover by new SYNs cannot be told apart here.`;
    }
    for (const e of served) s += clientClause(input, name, e);
    s += ' Whoever closes first holds the TIME_WAIT: with the server closing, the client\'s ports are free as soon as each connection ends, and the server\'s TIME_WAIT stays bounded by the client\'s 4-tuples instead of growing with the rate.';
    out.push(s);
  }
  return out;
}

/** What one peer group's clients made, and how much TIME_WAIT the server held under their source address. */
function clientClause({ plan, report }: FindingInput, server: string, e: CloserEvidence): string {
  const held = e.server.peer.timeWait;
  const actors = e.links.flatMap((l) => l.clientActors);
  const counted = actors.map((a) => stat(report.actors[a], 'connected'));
  // Clients that count their connections say so; a proxy does not, and the server's Tcp.PassiveOpens stands in.
  const made = counted.every((c) => typeof c === 'number') ? { count: counted.reduce((a, b) => a! + b!, 0)!, basis: '' } : groupConnections(report.hosts, planLinks(plan), e, () => undefined);
  const conns = made?.count ?? 0;
  const basis = made?.basis ? ` (${made.basis})` : '';
  const via = e.links.find((l) => l.via)?.via;
  if (via || e.clientHosts.length > 1) {
    return ` ${hostsText(e.clientHosts)[0]!.toUpperCase()}${hostsText(e.clientHosts).slice(1)} reach host ${server} through gateway ${via}, whose masquerade address ${e.seenAs} is the one source address host ${server} saw: it held up to ${n(held)} TIME_WAIT under that address for their ${n(conns)} connections${basis}, one per 4-tuple the gateway used; which client an entry belonged to cannot be told from host ${server}.`;
  }
  const client = e.clientHosts[0]!;
  const actor = plan.actors[actors[0]!]!;
  const errorCounts = actors.map((a) => stat(report.actors[a], 'errorCount'));
  const errors = errorCounts.every((c) => typeof c === 'number') ? ` with ${n(errorCounts.reduce((a, b) => a! + b!, 0)!)} errors` : '';
  const ports = connectionsOf(actor).dials[0]?.localPorts;
  const localPort = ports?.from === 'fixed' ? ports.port : undefined;
  const budget = portBudget(report.hosts[client]?.sysctls ?? {});
  const through = localPort !== undefined ? ` from its one local port ${localPort}` : budget ? ` through its ${n(budget.budget)}-port range ${budget.range}` : '';
  let s = ` Host ${client} (actor ${actors.join(', ')}) made ${n(conns)} connections${basis}${through}${errors}, and host ${server} held at most ${n(held)} TIME_WAIT from it: one per 4-tuple it used`;
  if (e.first === 'mixed') s += ` (host ${client} closed first on ${n(e.client.count)} of them itself)`;
  const half = localPort === undefined && budget ? sameParityPorts(budget.range) : undefined;
  s += half !== undefined && held === half
    ? `, exactly the ${n(half)} ports of the range with its low end's parity, the half connect() tries first: holding no TIME_WAIT itself, the client found one of them free every time, so each was used about ${Math.round(conns / half)} times.`
    : '.';
  return s;
}
