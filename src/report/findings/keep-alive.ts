import type { ConnectionModel } from '../../core/connection-model.ts';
import { connectionsOf } from '../../plan/connection-models.ts';
import { stat } from '../report.ts';
import { timeWaitCount } from '../evidence/time-wait.ts';
import type { FindingInput } from './rule.ts';
import { n } from './words.ts';

interface Side {
  actor: string;
  host: string;
  keepAlive: boolean;
  requests: number;
  opens: number;
  timeWait: number;
}

/** A load carried by a pool of kept-alive connections. */
const pooled = (model: ConnectionModel) => model.dials.some((d) => d.perRequest.pooled);

/**
 * New connections per request, from the kernel's Tcp.ActiveOpens of a host that runs a single load actor,
 * and what it costs in TIME_WAIT: keep-alive side by side with one connection per request.
 */
export function keepAliveFindings({ plan, report }: FindingInput): string[] {
  const load = Object.values(plan.actors).filter((a) => a.role === 'load');
  if (!load.some((a) => pooled(connectionsOf(a)))) return [];
  const sides: Side[] = [];
  for (const actor of load) {
    const host = report.hosts[actor.host];
    if (!host || load.filter((a) => a.host === actor.host).length !== 1) continue;
    sides.push({
      actor: actor.name,
      host: actor.host,
      keepAlive: pooled(connectionsOf(actor)),
      requests: (stat(report.actors[actor.name], 'responses') ?? 0),
      opens: host.counters.delta['Tcp.ActiveOpens'] ?? 0,
      timeWait: timeWaitCount(host).peak,
    });
  }
  const out = sides.map((s) => {
    const per = s.requests > 0 ? (s.opens / s.requests).toFixed(s.opens < s.requests / 10 ? 4 : 2) : '-';
    return `Host ${s.host} (actor ${s.actor}, ${s.keepAlive ? 'keep-alive' : 'one connection per request'}): ${n(s.requests)} responses over ${n(s.opens)} new connections (Tcp.ActiveOpens +${n(s.opens)}), ${per} per request; TIME_WAIT peaked at ${n(s.timeWait)} on this host.`;
  });
  const on = sides.find((s) => s.keepAlive);
  const off = sides.find((s) => !s.keepAlive);
  const onResets = on ? report.hosts[on.host]!.counters.delta['Tcp.OutRsts'] ?? 0 : 0;
  if (on && onResets > 0) {
    const d = report.hosts[on.host]!.counters.delta;
    out.push(`Host ${on.host} ended its kept-alive connections with RST, not FIN (Tcp.OutRsts +${n(onResets)}; TcpExt.TCPAbortOnClose +${n(d['TcpExt.TCPAbortOnClose'] ?? 0)}, TCPAbortOnData +${n(d['TcpExt.TCPAbortOnData'] ?? 0)}): autocannon destroyed them at its end with responses still arriving, so they left no TIME_WAIT and their server may log a reset.`);
  }
  if (on && off && on.opens > 0) {
    out.push(`At about the same request rate, keep-alive opened ${n(Math.round(off.opens / on.opens))}x fewer connections (${n(on.opens)} against ${n(off.opens)}). Each connection closed is one TIME_WAIT on the side that closes first for 60 s, so the connection-per-request side holds rate x 60 s of them in steady state, and with it the ports toward that one server; the kept-alive connections cost one each, once, when they close.`);
  }
  return out;
}
