import { connectionsOf } from '../../plan/connection-models.ts';
import { stat } from '../report.ts';
import { actorStat, counter, hostPeak, sysctl, type Finding } from '../claims/claim.ts';
import { ClaimSet } from '../claims/measure.ts';
import type { FindingInput } from './rule.ts';
import { duration, n } from './words.ts';

/** Clients of the server described one by one; the rest are named as a range. */
const CLIENTS_DESCRIBED = 3;

/**
 * A listener's accept queue overflowing: which host, how deep the queue really was (measured by the first
 * accept() run after a pause), what the kernel did with the excess, and what the clients saw.
 */
export function listenBacklogFindings({ plan, report }: FindingInput): Finding[] {
  const out: Finding[] = [];
  for (const actor of Object.values(plan.actors)) {
    const accepts = connectionsOf(actor).accepts;
    if (!accepts) continue;
    const host = report.hosts[actor.host];
    const stats = report.actors[actor.name];
    if (!host || !stats || (host.counters.delta['TcpExt.ListenOverflows'] ?? 0) <= 0) continue;
    const set = new ClaimSet({ plan, report });
    const clients = Object.values(plan.actors).filter((a) => a.connect?.actor === actor.name);
    const peers = [...new Set(clients.map((c) => c.host))];
    // The listener's counters and census are its host's, whatever the clients.
    const whole = { peers: [] };
    const overflows = set.add({
      name: 'counter',
      of: 'TcpExt.ListenOverflows',
      unit: 'count',
      plus: [counter(actor.host, 'TcpExt.ListenOverflows')],
      ...whole,
    });
    const drops = set.add({
      name: 'counter',
      of: 'TcpExt.ListenDrops',
      unit: 'count',
      plus: [counter(actor.host, 'TcpExt.ListenDrops')],
      ...whole,
    });
    let s = `The accept queue of actor ${actor.name} on host ${actor.host} (port ${accepts.port}) overflowed: TcpExt.ListenOverflows +${n(overflows.value)}, ListenDrops +${n(drops.value)}.`;
    const pause = set.add({
      name: 'planned',
      of: 'acceptAfterMs',
      unit: 'ms',
      plus: [{ from: 'model', actor: actor.name, field: 'acceptAfterMs' }],
      ...whole,
    });
    if (pause.value > 0)
      s += ` It accepted nothing for its first ${duration(pause.value)}, while the kernel completed handshakes into the queue by itself.`;
    const depth = set.maybe({
      name: 'acceptQueueAtResume',
      unit: 'connections',
      plus: [actorStat(actor.name, 'queuedAtResume')],
      ...whole,
    });
    const backlog =
      depth &&
      set.maybe({
        name: 'planned',
        of: 'backlog',
        unit: 'connections',
        plus: [{ from: 'model', actor: actor.name, field: 'backlog' }],
        ...whole,
      });
    if (depth && backlog) {
      const somaxconn = set.maybe({
        name: 'sysctl',
        of: 'net.core.somaxconn',
        unit: 'connections',
        plus: [sysctl(actor.host, 'net.core.somaxconn')],
        ...whole,
      });
      const cap = somaxconn ? Math.min(backlog.value, somaxconn.value) : backlog.value;
      s += ` When it began to accept, its accept queue held ${n(depth.value)} connections (rx_queue of the listening socket in /proc/net/tcp), against listen(${n(backlog.value)}) capped by net.core.somaxconn ${somaxconn ? n(somaxconn.value) : '?'} = ${n(cap)}`;
      s +=
        depth.value === cap + 1
          ? ': this kernel admits one more than the backlog.'
          : depth.value === cap
            ? '.'
            : ` (not full: ${n(depth.value)} of ${n(cap)}).`;
    }
    const synRecv = set.add({
      name: 'statePeak',
      of: 'SYN_RECV',
      unit: 'sockets',
      plus: [hostPeak(actor.host, 'SYN_RECV'), hostPeak(actor.host, 'NEW_SYN_RECV')],
      ...whole,
    });
    s +=
      synRecv.value === 0
        ? ` With the queue full the kernel dropped new SYNs outright: SYN_RECV peaked at ${n(synRecv.value)} on host ${actor.host}, no half-open connection waited.`
        : ` SYN_RECV peaked at ${n(synRecv.value)} on host ${actor.host}: handshakes whose final ACK met a full queue were dropped and their SYN-ACK resent.`;
    // A scaled client (150 replicas) would give a sentence each: the first few stand for the rest, named once.
    const described = clients.filter((c) => report.actors[c.name] && report.hosts[c.host]);
    let resent = false;
    for (const c of described.slice(0, CLIENTS_DESCRIBED)) {
      const cs = report.actors[c.name]!;
      const its = { peers: [actor.host] };
      const synSent = set.add({
        name: 'statePeak',
        of: 'SYN_SENT',
        unit: 'sockets',
        plus: [hostPeak(c.host, 'SYN_SENT')],
        peers: [],
      });
      const retrans = set.add({
        name: 'counter',
        of: 'TcpExt.TCPSynRetrans',
        unit: 'count',
        plus: [counter(c.host, 'TcpExt.TCPSynRetrans')],
        peers: [],
      });
      const ok = set.maybe({ name: 'answers', unit: 'responses', plus: [actorStat(c.name, 'ok')], ...its });
      const attempts = set.maybe({
        name: 'attempts',
        unit: 'connections',
        plus: [actorStat(c.name, 'attempts')],
        ...its,
      });
      const latency = (p: 'p50' | 'p99') =>
        set.maybe({ name: 'latency', of: p, unit: 'ms', plus: [actorStat(c.name, 'latencyMs', p)], ...its });
      const [p50, p99] = [latency('p50'), latency('p99')];
      const errs = Object.keys(stat(cs, 'errors') ?? {}).map(
        (code) =>
          `${code} ${n(set.add({ name: 'errors', of: code, unit: 'errors', plus: [actorStat(c.name, 'errors', code, 'count')], ...its }).value)}`,
      );
      s += ` Client ${c.name} (host ${c.host}: SYN_SENT peak ${n(synSent.value)} and TcpExt.TCPSynRetrans +${n(retrans.value)} for the whole host) got ${ok ? n(ok.value) : '?'} of ${attempts ? n(attempts.value) : '?'} answers, p50 ${p50 ? n(Math.round(p50.value)) : '-'} ms, p99 ${p99 ? n(Math.round(p99.value)) : '-'} ms, ${errs.length ? `errors ${errs.join(', ')}` : 'no errors'}.`;
      resent ||= retrans.value > 0;
    }
    // Said once, and only where a described client's kernel resent SYNs: a client without a retransmission met none.
    if (resent) s += ' A dropped SYN costs its client a retransmission timeout (1 s, then 2 s more), not a refusal.';
    const rest = described.slice(CLIENTS_DESCRIBED);
    if (rest.length)
      s += ` Its other clients, ${rest[0]!.name} to ${rest.at(-1)!.name}, met the same full queue: each one's answers, latency and errors are in its actor's stats.`;
    if (host.sysctls['net.ipv4.tcp_abort_on_overflow'] === '1') {
      const rsts = set.add({
        name: 'counter',
        of: 'Tcp.OutRsts',
        unit: 'count',
        plus: [counter(actor.host, 'Tcp.OutRsts')],
        ...whole,
      });
      s +=
        rsts.value === 0
          ? ` net.ipv4.tcp_abort_on_overflow=1 on host ${actor.host} sent no RST (Tcp.OutRsts +0): it acts only on an ACK that completes a handshake into a full queue, and here the SYNs were dropped before any handshake completed.`
          : ` net.ipv4.tcp_abort_on_overflow=1 on host ${actor.host} answered overflowing handshakes with an RST (Tcp.OutRsts +${n(rsts.value)}): its clients see ECONNRESET instead of waiting.`;
    }
    s +=
      ' What would change it: accept faster (more workers, no blocking work before accept()), and a larger listen() backlog together with net.core.somaxconn, which caps it.';
    out.push(set.finding('listen-backlog', actor.host, peers, s));
  }
  return out;
}
