import { stat } from '../report.ts';
import { formatDuration } from '../../core/units.ts';
import { portBudget, TIME_WAIT_SECONDS } from '../../core/port-budget.ts';
import type { FindingInput } from './rule.ts';
import { n, pct } from './words.ts';

/** Which host held TIME_WAIT, on which side, and why: only the side that closes first enters it. */
export function timeWaitFindings({ plan, report }: FindingInput): string[] {
  const out: string[] = [];
  for (const [name, host] of Object.entries(report.hosts)) {
    const tw = host.peak.total.TIME_WAIT;
    const budget = portBudget(host.sysctls);
    if (tw > 0) {
      const side = host.peak.ephemeral.TIME_WAIT >= host.peak.listen.TIME_WAIT ? 'client' : 'server';
      let s = `TIME_WAIT piled up on host ${name}: peak ${n(tw)} (${n(host.peak.ephemeral.TIME_WAIT)} on ephemeral ports, ${n(host.peak.listen.TIME_WAIT)} on ports it listens on) at ${formatDuration(host.peak.atMs.TIME_WAIT ?? 0)}.`;
      s += ` Host ${name} closed these connections first, as their ${side} side; only the side that closes first enters TIME_WAIT, and it stays there ${TIME_WAIT_SECONDS} s (TCP_TIMEWAIT_LEN, fixed in the kernel; tcp_fin_timeout does not change it).`;
      if (side === 'client' && budget) s += ` That is ${pct(host.peak.ephemeral.TIME_WAIT, budget.budget)} of its ${n(budget.budget)}-port ip_local_port_range (${budget.range}).`;
      out.push(s);
    } else {
      const served = Object.values(plan.actors).filter((a) => a.host === name && a.role === 'server').map((a) => report.actors[a.name]);
      const passive = served.reduce((sum, st) => sum + (stat(st, 'peerClosedFirst') ?? 0), 0);
      if (passive > 0) {
        out.push(`Host ${name} held no TIME_WAIT (peak 0): its peers closed first on ${n(passive)} connections and it closed only after their FIN, a passive close that ends in LAST_ACK, not TIME_WAIT.`);
      }
    }
  }
  return out;
}
