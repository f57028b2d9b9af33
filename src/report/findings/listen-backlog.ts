import { connectionsOf } from '../../plan/connection-models.ts';
import { stat } from '../report.ts';
import { formatDuration } from '../../core/units.ts';
import type { FindingInput } from './rule.ts';
import { n } from './words.ts';

/**
 * A listener's accept queue overflowing: which host, how deep the queue really was (measured by the first
 * accept() run after a pause), what the kernel did with the excess, and what the clients saw.
 */
export function listenBacklogFindings({ plan, report }: FindingInput): string[] {
  const out: string[] = [];
  for (const actor of Object.values(plan.actors)) {
    const accepts = connectionsOf(actor).accepts;
    if (!accepts) continue;
    const host = report.hosts[actor.host];
    const stats = report.actors[actor.name];
    if (!host || !stats) continue;
    const delta = host.counters.delta;
    const overflows = delta['TcpExt.ListenOverflows'] ?? 0;
    if (overflows <= 0) continue;
    const backlog = accepts.backlog;
    const somaxconn = host.sysctls['net.core.somaxconn'];
    let s = `The accept queue of actor ${actor.name} on host ${actor.host} (port ${accepts.port}) overflowed: TcpExt.ListenOverflows +${n(overflows)}, ListenDrops +${n(delta['TcpExt.ListenDrops'] ?? 0)}.`;
    const pause = accepts.acceptAfterMs;
    if (pause > 0) s += ` It accepted nothing for its first ${formatDuration(pause)}, while the kernel completed handshakes into the queue by itself.`;
    const depth = stat(stats, 'queuedAtResume');
    if (typeof depth === 'number' && backlog !== undefined) {
      const cap = somaxconn === undefined ? backlog : Math.min(backlog, Number(somaxconn));
      s += ` When it began to accept, its accept queue held ${n(depth)} connections (rx_queue of the listening socket in /proc/net/tcp), against listen(${n(backlog)}) capped by net.core.somaxconn ${somaxconn ?? '?'} = ${n(cap)}`;
      s += depth === cap + 1 ? ': this kernel admits one more than the backlog.' : depth === cap ? '.' : ` (not full: ${n(depth)} of ${n(cap)}).`;
    }
    const synRecv = host.peak.total.SYN_RECV + (host.peak.total.NEW_SYN_RECV ?? 0);
    s += synRecv === 0
      ? ` With the queue full the kernel dropped new SYNs outright: SYN_RECV peaked at 0 on host ${actor.host}, no half-open connection waited.`
      : ` SYN_RECV peaked at ${n(synRecv)} on host ${actor.host}: handshakes whose final ACK met a full queue were dropped and their SYN-ACK resent.`;

    const clients = Object.values(plan.actors).filter((a) => a.connect?.actor === actor.name);
    for (const c of clients) {
      const cs = report.actors[c.name];
      const ch = report.hosts[c.host];
      if (!cs || !ch) continue;
      const lat = stat(cs, 'latencyMs');
      const errs = Object.entries(stat(cs, 'errors') ?? {}).map(([code, e]) => `${code} ${n(e.count)}`);
      s += ` Client ${c.name} (host ${c.host}: SYN_SENT peak ${n(ch.peak.total.SYN_SENT)} and TcpExt.TCPSynRetrans +${n(ch.counters.delta['TcpExt.TCPSynRetrans'] ?? 0)} for the whole host) got ${n((stat(cs, 'ok') ?? 0))} of ${n((stat(cs, 'attempts') ?? 0))} answers, p50 ${lat?.p50 == null ? '-' : Math.round(lat.p50)} ms, p99 ${lat?.p99 == null ? '-' : Math.round(lat.p99)} ms, ${errs.length ? `errors ${errs.join(', ')}` : 'no errors'}: a dropped SYN costs the client a retransmission timeout (1 s, then 2 s more), not a refusal.`;
    }
    const abort = host.sysctls['net.ipv4.tcp_abort_on_overflow'];
    const rsts = delta['Tcp.OutRsts'] ?? 0;
    if (abort === '1') {
      s += rsts === 0
        ? ` net.ipv4.tcp_abort_on_overflow=1 on host ${actor.host} sent no RST (Tcp.OutRsts +0): it acts only on an ACK that completes a handshake into a full queue, and here the SYNs were dropped before any handshake completed.`
        : ` net.ipv4.tcp_abort_on_overflow=1 on host ${actor.host} answered overflowing handshakes with an RST (Tcp.OutRsts +${n(rsts)}): its clients see ECONNRESET instead of waiting.`;
    }
    s += ' What would change it: accept faster (more workers, no blocking work before accept()), and a larger listen() backlog together with net.core.somaxconn, which caps it.';
    out.push(s);
  }
  return out;
}
