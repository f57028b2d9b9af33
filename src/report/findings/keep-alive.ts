import type { ConnectionModel } from '../../core/connection-model.ts';
import { connectionsOf } from '../../plan/connection-models.ts';
import { stat } from '../report.ts';
import { actorStat, counter, hostPeak, sockstatTw, type Claim, type Finding } from '../claims/claim.ts';
import { ClaimSet } from '../claims/measure.ts';
import type { FindingInput } from './rule.ts';
import { decimal, n } from './words.ts';

interface Side {
  actor: string;
  host: string;
  keepAlive: boolean;
  peers: string[];
  set: ClaimSet;
  requests: Claim;
  opens: Claim;
  perRequest?: Claim;
  timeWait: Claim;
}

/** A load carried by a pool of kept-alive connections. */
const pooled = (model: ConnectionModel) => model.dials.some((d) => d.perRequest.pooled);

/**
 * New connections per request, from the kernel's Tcp.ActiveOpens of a host that runs a single load actor,
 * and what it costs in TIME_WAIT: keep-alive side by side with one connection per request.
 */
export function keepAliveFindings({ plan, report }: FindingInput): Finding[] {
  const load = Object.values(plan.actors).filter((a) => a.role === 'load');
  if (!load.some((a) => pooled(connectionsOf(a)))) return [];
  const sides: Side[] = [];
  for (const actor of load) {
    const host = report.hosts[actor.host];
    if (
      !host ||
      load.filter((a) => a.host === actor.host).length !== 1 ||
      typeof stat(report.actors[actor.name], 'responses') !== 'number'
    )
      continue;
    const set = new ClaimSet({ plan, report });
    const model = connectionsOf(actor);
    // The host runs this one load actor: its Tcp.ActiveOpens are this actor's connections.
    const peers = [...new Set(model.dials.map((d) => d.to.host))];
    const its = { peers };
    const requests = set.add({
      name: 'responses',
      unit: 'responses',
      plus: [actorStat(actor.name, 'responses')],
      ...its,
    });
    const opens = set.add({
      name: 'counter',
      of: 'Tcp.ActiveOpens',
      unit: 'count',
      plus: [counter(actor.host, 'Tcp.ActiveOpens')],
      ...its,
    });
    const perRequest = set.maybe({
      name: 'connectionsPerRequest',
      unit: 'connections per request',
      derive: 'ratio',
      plus: [counter(actor.host, 'Tcp.ActiveOpens')],
      minus: [actorStat(actor.name, 'responses')],
      ...its,
    });
    const timeWait = set.add({
      name: 'timeWaitPeak',
      unit: 'sockets',
      plus: [hostPeak(actor.host, 'TIME_WAIT')],
      cap: host.samples > 0 ? [sockstatTw(actor.host)] : [],
      peers: [],
    });
    sides.push({
      actor: actor.name,
      host: actor.host,
      keepAlive: pooled(model),
      peers,
      set,
      requests,
      opens,
      ...(perRequest ? { perRequest } : {}),
      timeWait,
    });
  }
  const out = sides.map((s) => {
    const per = s.perRequest ? decimal(s.perRequest.value, s.opens.value < s.requests.value / 10 ? 4 : 2) : '-';
    return s.set.finding(
      'keep-alive',
      s.host,
      s.peers,
      `Host ${s.host} (actor ${s.actor}, ${s.keepAlive ? 'keep-alive' : 'one connection per request'}): ${n(s.requests.value)} responses over ${n(s.opens.value)} new connections (Tcp.ActiveOpens +${n(s.opens.value)}), ${per} per request; TIME_WAIT peaked at ${n(s.timeWait.value)} on this host.`,
    );
  });
  const on = sides.find((s) => s.keepAlive);
  const off = sides.find((s) => !s.keepAlive);
  if (on && (report.hosts[on.host]!.counters.delta['Tcp.OutRsts'] ?? 0) > 0) {
    const set = new ClaimSet({ plan, report });
    const [rsts, onClose, onData] = ['Tcp.OutRsts', 'TcpExt.TCPAbortOnClose', 'TcpExt.TCPAbortOnData'].map((c) =>
      set.add({ name: 'counter', of: c, unit: 'count', plus: [counter(on.host, c)], peers: on.peers }),
    );
    out.push(
      set.finding(
        'keep-alive',
        on.host,
        on.peers,
        `Host ${on.host} ended its kept-alive connections with RST, not FIN (Tcp.OutRsts +${n(rsts!.value)}; TcpExt.TCPAbortOnClose +${n(onClose!.value)}, TCPAbortOnData +${n(onData!.value)}): autocannon destroyed them at its end with responses still arriving, so they left no TIME_WAIT and their server may log a reset.`,
      ),
    );
  }
  if (on && off && on.opens.value > 0) {
    const set = new ClaimSet({ plan, report });
    const peers = [...new Set([...on.peers, ...off.peers])];
    const fewer = set.add({
      name: 'connectionsRatio',
      unit: 'count',
      derive: 'ratio',
      plus: [counter(off.host, 'Tcp.ActiveOpens')],
      minus: [counter(on.host, 'Tcp.ActiveOpens')],
      peers: [],
    });
    const [onOpens, offOpens] = [on, off].map((s) => set.keep({ ...s.opens, peers: s.peers }));
    out.push(
      set.finding(
        'keep-alive',
        on.host,
        peers,
        `At about the same request rate, keep-alive opened ${n(Math.round(fewer.value))}x fewer connections (${n(onOpens!.value)} against ${n(offOpens!.value)}). Each connection closed is one TIME_WAIT on the side that closes first for 60 s, so the connection-per-request side holds rate x 60 s of them in steady state, and with it the ports toward that one server; the kept-alive connections cost one each, once, when they close.`,
      ),
    );
  }
  return out;
}
