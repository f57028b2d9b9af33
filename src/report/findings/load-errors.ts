import { connectionsOf } from '../../plan/connection-models.ts';
import { stat } from '../report.ts';
import { formatDuration } from '../../core/units.ts';
import type { HostReport } from '../report.ts';
import { holdersText } from './holders-text.ts';
import type { FindingInput } from './rule.ts';
import { n } from './words.ts';

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

/** The tcp_tw_reuse remedy not already in force: turn it on, turn timestamps back on, or shorten its delay. */
function twReuseRemedy(sysctls: Record<string, string>): string {
  if (sysctls['net.ipv4.tcp_tw_reuse'] !== '1') return 'tcp_tw_reuse=1 with timestamps on; ';
  if (sysctls['net.ipv4.tcp_timestamps'] === '0') return 'tcp_timestamps=1, without which tcp_tw_reuse=1 reuses nothing; ';
  const delay = Number(sysctls['net.ipv4.tcp_tw_reuse_delay'] ?? 1000);
  // tcp_tw_reuse_delay takes 1-2,000 ms (6.14+): the sustainable rate is the range / the delay.
  return delay > 1 ? `a shorter tcp_tw_reuse_delay (now ${n(delay)} ms; the ports sustain range / delay new connections per s); ` : '';
}

/** What held the ports when connect() found none, from the per-peer census: TIME_WAIT, or connections still open. */
function portsHeld(name: string, host: HostReport, destination: string, budget: number): string {
  const held = holdersText(host, destination, budget);
  if (held.byTimeWait) {
    return ` Every local port toward ${destination} was held by a socket in TIME_WAIT (per-peer census peaks on host ${name}: ${held.list}; host-wide sockstat tw ${n(host.peak.sockstatTw)}), and ${twReuseMeaning(host.sysctls)}.`
      + ` What would change it: keep-alive (many requests per connection); a wider ip_local_port_range; more destination addresses or ports (the budget is per destination ip:port); ${twReuseRemedy(host.sysctls)}or letting the server close first, so that its TIME_WAIT does not hold the client's ports.`;
  }
  if (held.byOpen) {
    return ` Its ports toward ${destination} were held by connections still open, not by TIME_WAIT (per-peer census peaks on host ${name}: ${held.list}): a port stays taken while any socket holds its 4-tuple, and no sysctl frees it.`
      + ' What would change it: closing each connection when its work is done, or reusing it (keep-alive); a wider ip_local_port_range; more destination addresses or ports (the budget is per destination ip:port).';
  }
  return ` Its ports toward ${destination} were held by these sockets (per-peer census peaks on host ${name}): ${held.list}.`;
}

/** Errors of the load actors by errno, with the mechanism behind EADDRNOTAVAIL; missed starts of the open model. */
export function loadErrorFindings({ plan, report }: FindingInput): string[] {
  const out: string[] = [];
  for (const actor of Object.values(plan.actors)) {
    if (actor.role !== 'load') continue;
    const stats = report.actors[actor.name];
    if (!stats) continue;
    const errors = stat(stats, 'errors') ?? {};
    const startedAt = stat(stats, 'startedAtMs') ?? 0;
    const exhaustion = report.predictions[actor.name]?.exhaustion;
    const host = report.hosts[actor.host];
    for (const [code, e] of Object.entries(errors)) {
      const calls = Object.entries(e.syscalls).map(([call, k]) => `${call}() ${n(k)}`).join(', ');
      let s = `${code}${ERRNO_TEXT[code] ? ` ("${ERRNO_TEXT[code]}")` : ''} ${n(e.count)} times on host ${actor.host} (actor ${actor.name}; ${calls}), first ${formatDuration(e.firstAtMs - startedAt)} into the load.`;
      if (code === 'EADDRNOTAVAIL' && exhaustion && host && actor.connect) {
        if (exhaustion.predictedMs !== null) s += ` Predicted ${formatDuration(exhaustion.predictedMs)}: ${n(exhaustion.portBudget)} ports / ${exhaustion.connectRate} new connections per second (measured/predicted ${exhaustion.ratio}).`;
        s += portsHeld(actor.host, host, `${actor.connect.address}:${actor.connect.port}`, exhaustion.portBudget);
      }
      out.push(s);
    }
    const missed = stat(stats, 'missedStarts') ?? 0;
    if (missed > 0) {
      let m = `Actor ${actor.name} missed ${n(missed)} scheduled starts: the open model counts a start that cannot begin on time rather than delaying it.`;
      const count = connectionsOf(actor).load?.count;
      // count bounds the schedule, missed starts included: it is not the number of connections made.
      if (typeof count === 'number') m += ` Its count of ${n(count)} starts includes them: ${n(stat(stats, 'attempts') ?? 0)} attempted (${n(stat(stats, 'connected') ?? 0)} connected) and ${n(missed)} missed.`;
      const cliff = report.predictions[actor.name]?.parityCliff;
      if (cliff?.crossed) m += ` Its ${n(cliff.connected)} connections passed ${n(cliff.halfPorts)}, the half of its port range connect() tries first (predicted at ${formatDuration(cliff.predictedAtMs)}): from there every connect() scanned that whole held half before the other, about ${n(cliff.slowedRate)} connections per s at most, which is why starts were missed.`;
      out.push(m);
    }
  }
  return out;
}
