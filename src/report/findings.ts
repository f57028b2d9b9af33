// Findings: plain sentences saying what happened, on which host, by which mechanism, and what would
// change it. Every number comes from the report (the kernel's state and the actors' own counts).
import type { Plan } from '../core/plan.ts';
import { KEY_COUNTERS } from '../sampler/kernel-counters.ts';
import { formatDuration } from '../core/units.ts';
import { portBudget, TIME_WAIT_SECONDS } from './predictions.ts';
import type { Report } from './report.ts';

const n = (v: number) => v.toLocaleString('en-US');
const pct = (part: number, whole: number) => `${Math.round((part / whole) * 1000) / 10}%`;

const ERRNO_TEXT: Record<string, string> = {
  EADDRNOTAVAIL: 'Cannot assign requested address',
  EADDRINUSE: 'Address already in use',
  ECONNRESET: 'Connection reset by peer',
  ECONNREFUSED: 'Connection refused',
  EPIPE: 'Broken pipe',
  EMFILE: 'Too many open files',
  ETIMEDOUT: 'Connection timed out',
};

function twReuseMeaning(sysctls: Record<string, string>): string {
  const reuse = sysctls['net.ipv4.tcp_tw_reuse'];
  const delay = sysctls['net.ipv4.tcp_tw_reuse_delay'];
  if (reuse === '0') return 'net.ipv4.tcp_tw_reuse=0 forbids connect() to reuse them';
  if (reuse === '2') return 'net.ipv4.tcp_tw_reuse=2 allows reuse on loopback only, and this traffic crossed a veth';
  if (reuse === '1') {
    if (sysctls['net.ipv4.tcp_timestamps'] === '0') return 'net.ipv4.tcp_tw_reuse=1 needs TCP timestamps, and tcp_timestamps=0 turned them off';
    return `net.ipv4.tcp_tw_reuse=1 reuses one only once it is ${delay ? `${delay} ms (tcp_tw_reuse_delay)` : 'about 1 s'} old`;
  }
  return `net.ipv4.tcp_tw_reuse is ${reuse ?? 'unknown'}`;
}

export function findings(plan: Plan, report: Pick<Report, 'hosts' | 'actors' | 'predictions' | 'durationMs'>): string[] {
  const out: string[] = [];
  const actorsOn = (host: string) => Object.values(plan.actors).filter((a) => a.host === host);

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
      const served = actorsOn(name).filter((a) => a.role === 'server').map((a) => report.actors[a.name]);
      const passive = served.reduce((sum, st) => sum + Number(st?.['peerClosedFirst'] ?? 0), 0);
      if (passive > 0) {
        out.push(`Host ${name} held no TIME_WAIT (peak 0): its peers closed first on ${n(passive)} connections and it closed only after their FIN, a passive close that ends in LAST_ACK, not TIME_WAIT.`);
      }
    }
  }

  for (const actor of Object.values(plan.actors)) {
    if (actor.role !== 'load') continue;
    const stats = report.actors[actor.name];
    if (!stats) continue;
    const errors = (stats['errors'] ?? {}) as Record<string, { count: number; syscalls: Record<string, number>; firstAtMs: number }>;
    const startedAt = Number(stats['startedAtMs'] ?? 0);
    const exhaustion = report.predictions[actor.name]?.exhaustion;
    const host = report.hosts[actor.host];
    for (const [code, e] of Object.entries(errors)) {
      const calls = Object.entries(e.syscalls).map(([call, k]) => `${call}() ${n(k)}`).join(', ');
      let s = `${code}${ERRNO_TEXT[code] ? ` ("${ERRNO_TEXT[code]}")` : ''} ${n(e.count)} times on host ${actor.host} (actor ${actor.name}; ${calls}), first ${formatDuration(e.firstAtMs - startedAt)} into the load.`;
      if (code === 'EADDRNOTAVAIL' && exhaustion && host) {
        s += ` Predicted ${formatDuration(exhaustion.predictedMs)}: ${n(exhaustion.portBudget)} ports / ${exhaustion.connectRate} new connections per second (measured/predicted ${exhaustion.ratio}).`;
        s += ` Every local port toward ${actor.connect?.address}:${actor.connect?.port} was held by a socket in TIME_WAIT, and ${twReuseMeaning(host.sysctls)}.`;
        s += ' What would change it: keep-alive (many requests per connection); a wider ip_local_port_range; more destination addresses or ports (the budget is per destination ip:port); tcp_tw_reuse=1 with timestamps on; or letting the server close first, so that its TIME_WAIT does not hold the client\'s ports.';
      }
      out.push(s);
    }
    const missed = Number(stats['missedStarts'] ?? 0);
    if (missed > 0) out.push(`Actor ${actor.name} missed ${n(missed)} scheduled starts: the open model counts a start that cannot begin on time rather than delaying it.`);
  }

  for (const [name, host] of Object.entries(report.hosts)) {
    const moved = KEY_COUNTERS.filter((k) => host.counters.delta[k]).map((k) => `${k} ${host.counters.delta[k]! > 0 ? '+' : ''}${n(host.counters.delta[k]!)}`);
    if (moved.length) out.push(`Kernel counters on host ${name}: ${moved.join(', ')}; the kernel's own TIME_WAIT count (sockstat tw) peaked at ${n(host.peak.sockstatTw)}.`);
  }
  return out;
}
