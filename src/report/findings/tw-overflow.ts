import { portBudget } from '../../core/port-budget.ts';
import { stat } from '../report.ts';
import { actorStat, counter, portBudgetRef, sockstatTw, sysctl, type Finding } from '../claims/claim.ts';
import { ClaimSet } from '../claims/measure.ts';
import type { FindingInput } from './rule.ts';
import { n } from './words.ts';

/** tcp_max_tw_buckets: past the cap, a close skips TIME_WAIT and TcpExt.TCPTimeWaitOverflow counts it. */
export function twOverflowFindings({ plan, report }: FindingInput): Finding[] {
  const out: Finding[] = [];
  for (const [name, host] of Object.entries(report.hosts)) {
    if ((host.counters.delta['TcpExt.TCPTimeWaitOverflow'] ?? 0) === 0) continue;
    const set = new ClaimSet({ plan, report });
    // The cap is per namespace: every number here is the host's as a whole.
    const whole = { peers: [] };
    const overflow = set.add({
      name: 'counter',
      of: 'TcpExt.TCPTimeWaitOverflow',
      unit: 'count',
      plus: [counter(name, 'TcpExt.TCPTimeWaitOverflow')],
      ...whole,
    });
    const entered = set.add({
      name: 'counter',
      of: 'TcpExt.TW',
      unit: 'count',
      plus: [counter(name, 'TcpExt.TW')],
      ...whole,
    });
    const tw = set.add({ name: 'sockstatTwPeak', unit: 'sockets', plus: [sockstatTw(name)], ...whole });
    const buckets = set.maybe({
      name: 'sysctl',
      of: 'net.ipv4.tcp_max_tw_buckets',
      unit: 'sockets',
      plus: [sysctl(name, 'net.ipv4.tcp_max_tw_buckets')],
      ...whole,
    });
    let s = `On host ${name}, TIME_WAIT hit its cap: the kernel's own count (sockstat tw) peaked at ${n(tw.value)} with net.ipv4.tcp_max_tw_buckets = ${buckets ? n(buckets.value) : 'unknown'}; ${n(entered.value)} connections entered TIME_WAIT (TcpExt.TW) and ${n(overflow.value)} more closed without it (TcpExt.TCPTimeWaitOverflow +${n(overflow.value)}).`;
    s +=
      ' Those skipped what TIME_WAIT is for: a late segment of the old connection can now land in a new one on the same 4-tuple, and the last ACK of the close is not re-sent if lost.';
    const budget = portBudget(host.sysctls);
    const peers = new Set<string>();
    for (const actor of Object.values(plan.actors).filter((a) => a.host === name && a.role === 'load')) {
      if (!budget || typeof stat(report.actors[actor.name], 'connected') !== 'number') continue;
      const to = actor.connect?.host ? [actor.connect.host] : [];
      const conns = set.add({
        name: 'connections',
        unit: 'connections',
        plus: [actorStat(actor.name, 'connected')],
        peers: to,
      });
      if (conns.value <= budget.budget) continue;
      to.forEach((p) => peers.add(p));
      const ports = set.add({
        name: 'portBudget',
        unit: 'ports',
        plus: [portBudgetRef(name, budget.budget)],
        peers: to,
      });
      const failed = set.maybe({
        name: 'errors',
        of: 'EADDRNOTAVAIL',
        unit: 'errors',
        plus: [actorStat(actor.name, 'errors', 'EADDRNOTAVAIL', 'count')],
        peers: to,
      });
      s += ` Their ports were free at once: actor ${actor.name} made ${n(conns.value)} connections through a ${n(ports.value)}-port range (${budget.range})${failed ? ` with ${n(failed.value)} EADDRNOTAVAIL` : ''}.`;
    }
    s +=
      ' What would change it: a larger tcp_max_tw_buckets, or fewer closes on this host (keep-alive, or letting the peer close first).';
    out.push(set.finding('tw-overflow', name, [...peers], s));
  }
  return out;
}
