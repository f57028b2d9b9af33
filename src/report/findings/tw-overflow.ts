import { stat } from '../report.ts';
import { portBudget } from '../../core/port-budget.ts';
import type { FindingInput } from './rule.ts';
import { n } from './words.ts';

/** tcp_max_tw_buckets: past the cap, a close skips TIME_WAIT and TcpExt.TCPTimeWaitOverflow counts it. */
export function twOverflowFindings({ plan, report }: FindingInput): string[] {
  const out: string[] = [];
  for (const [name, host] of Object.entries(report.hosts)) {
    const d = host.counters.delta;
    const overflow = d['TcpExt.TCPTimeWaitOverflow'] ?? 0;
    if (overflow === 0) continue;
    const entered = d['TcpExt.TW'] ?? 0;
    let s = `On host ${name}, TIME_WAIT hit its cap: the kernel's own count (sockstat tw) peaked at ${n(host.peak.sockstatTw)} with net.ipv4.tcp_max_tw_buckets = ${host.sysctls['net.ipv4.tcp_max_tw_buckets'] ?? 'unknown'}; ${n(entered)} connections entered TIME_WAIT (TcpExt.TW) and ${n(overflow)} more closed without it (TcpExt.TCPTimeWaitOverflow +${n(overflow)}).`;
    s += ' Those skipped what TIME_WAIT is for: a late segment of the old connection can now land in a new one on the same 4-tuple, and the last ACK of the close is not re-sent if lost.';
    const budget = portBudget(host.sysctls);
    for (const actor of Object.values(plan.actors).filter((a) => a.host === name && a.role === 'load')) {
      const stats = report.actors[actor.name];
      const conns = stat(stats, 'connected') ?? 0;
      const errors = stat(stats, 'errors') ?? {};
      if (budget && conns > budget.budget) {
        s += ` Their ports were free at once: actor ${actor.name} made ${n(conns)} connections through a ${n(budget.budget)}-port range (${budget.range}) with ${n(errors['EADDRNOTAVAIL']?.count ?? 0)} EADDRNOTAVAIL.`;
      }
    }
    s += ' What would change it: a larger tcp_max_tw_buckets, or fewer closes on this host (keep-alive, or letting the peer close first).';
    out.push(s);
  }
  return out;
}
