import { stat } from '../report.ts';
import { portBudget, sameParityPorts, TIME_WAIT_SECONDS } from '../../core/port-budget.ts';
import type { FindingInput } from './rule.ts';
import { n } from './words.ts';

/**
 * TIME_WAIT entries that left before their 60 s on the side that listens: a new SYN on the same 4-tuple
 * takes the entry over (RFC 6191). No counter counts that, so the rule accounts for every other way out.
 */
export function timeWaitTakeoverFindings({ plan, report }: FindingInput): string[] {
  const out: string[] = [];
  if (report.durationMs >= TIME_WAIT_SECONDS * 1000) return out;
  for (const [name, host] of Object.entries(report.hosts)) {
    const d = host.counters.delta;
    const entered = d['TcpExt.TW'] ?? 0;
    const listening = host.peak.listen.TIME_WAIT;
    if (listening === 0 || entered <= host.peak.total.TIME_WAIT) continue;
    // TcpExt.TW also counts FIN_WAIT_2 entries with a timer above 4 s: only a run without them is accounted here.
    if (host.peak.total.FIN_WAIT2 > 0 && host.peak.sockstatTw > host.peak.total.TIME_WAIT) continue;
    const early = entered - host.final.TIME_WAIT;
    const clients = Object.values(plan.actors).filter((a) => a.connect?.host === name && a.role === 'load');
    const peerRsts = clients.reduce((sum, a) => sum + (report.hosts[a.host]?.counters.delta['Tcp.OutRsts'] ?? 0), 0);
    const rfc1337 = host.sysctls['net.ipv4.tcp_rfc1337'] === '1';
    let s = `On host ${name}, ${n(entered)} connections entered TIME_WAIT (TcpExt.TW +${n(entered)}), yet at most ${n(host.peak.total.TIME_WAIT)} were there at once and ${n(host.final.TIME_WAIT)} at the end: in a run shorter than ${TIME_WAIT_SECONDS} s, ${n(early)} entries left TIME_WAIT early.`;
    if (peerRsts === 0 || rfc1337) {
      s += ` Not by their timer (${TIME_WAIT_SECONDS} s), not by an RST (${rfc1337 ? 'tcp_rfc1337=1 ignores them' : `its clients' hosts sent none: Tcp.OutRsts 0`}): each was taken over by the client's next SYN on the same 4-tuple, which the kernel accepts when its timestamp (or sequence number) is newer than the old connection's (RFC 6191), ending the old entry. No TcpExt or Tcp counter counts this (TcpExt.TWRecycled +${n(d['TcpExt.TWRecycled'] ?? 0)} here; it counts connect()'s reuse of its own TIME_WAIT, on the client side).`;
    } else {
      s += ` Their clients' hosts sent ${n(peerRsts)} RSTs, which also end TIME_WAIT entries (tcp_rfc1337=0), so the takeover by new SYNs cannot be told apart here.`;
    }
    for (const client of clients) {
      const budget = portBudget(report.hosts[client.host]?.sysctls ?? {});
      if (!budget) continue;
      const half = sameParityPorts(budget.range);
      const peer = host.peak.peers.listen[report.hosts[client.host]!.address]?.TIME_WAIT ?? 0;
      const conns = stat(report.actors[client.name], 'connected') ?? 0;
      s += ` Host ${client.host} (actor ${client.name}) made ${n(conns)} connections through its ${n(budget.budget)}-port range ${budget.range} with ${n((stat(report.actors[client.name], 'errorCount') ?? 0))} errors, and left at most ${n(peer)} TIME_WAIT here: one per 4-tuple it used`;
      s += peer === half
        ? `, exactly the ${n(half)} ports of the range with its low end's parity, the half connect() tries first: holding no TIME_WAIT itself, the client found one of them free every time, so each was used about ${Math.round(conns / half)} times.`
        : '.';
    }
    s += ' Whoever closes first holds the TIME_WAIT: with the server closing, the client\'s ports are free as soon as each connection ends, and the server\'s TIME_WAIT stays bounded by the client\'s 4-tuples instead of growing with the rate.';
    out.push(s);
  }
  return out;
}
