import { connectionsOf } from '../../plan/connection-models.ts';
import { endpointText } from '../../core/ipv6.ts';
import { stat } from '../report.ts';
import type { HostReport } from '../report.ts';
import { actorStat, sockstatTw, sysctl, type Claim, type Finding } from '../claims/claim.ts';
import { ClaimSet } from '../claims/measure.ts';
import { holdersText } from './holders-text.ts';
import type { FindingInput } from './rule.ts';
import { decimal, duration, errnoWords, n, syscallWords } from './words.ts';

function twReuseMeaning(sysctls: Record<string, string>, delay: Claim | undefined): string {
  const reuse = sysctls['net.ipv4.tcp_tw_reuse'];
  if (reuse === '0') return 'net.ipv4.tcp_tw_reuse=0 forbids connect() to reuse them';
  if (reuse === '2') return 'net.ipv4.tcp_tw_reuse=2 allows reuse on loopback only, and this traffic crossed a veth';
  if (reuse === '1') {
    if (sysctls['net.ipv4.tcp_timestamps'] === '0')
      return 'net.ipv4.tcp_tw_reuse=1 needs TCP timestamps, and tcp_timestamps=0 turned them off';
    return `net.ipv4.tcp_tw_reuse=1 reuses one only once it is ${delay ? `${n(delay.value)} ms (tcp_tw_reuse_delay)` : 'about 1 s'} old`;
  }
  return `net.ipv4.tcp_tw_reuse is ${reuse ?? 'unknown'}`;
}

/** The tcp_tw_reuse remedy not already in force: turn it on, turn timestamps back on, or shorten its delay. */
function twReuseRemedy(sysctls: Record<string, string>, delay: Claim | undefined): string {
  if (sysctls['net.ipv4.tcp_tw_reuse'] !== '1') return 'tcp_tw_reuse=1 with timestamps on; ';
  if (sysctls['net.ipv4.tcp_timestamps'] === '0')
    return 'tcp_timestamps=1, without which tcp_tw_reuse=1 reuses nothing; ';
  // tcp_tw_reuse_delay takes 1-2,000 ms (6.14+): the sustainable rate is the range / the delay. Before 6.14 it is not there (about 1 s, fixed).
  if (!delay) return '';
  return delay.value > 1
    ? `a shorter tcp_tw_reuse_delay (now ${n(delay.value)} ms; the ports sustain range / delay new connections per s); `
    : '';
}

/** What held the ports when connect() found none, from the per-peer census: TIME_WAIT, or connections still open. */
function portsHeld(
  set: ClaimSet,
  name: string,
  host: HostReport,
  destination: string,
  peers: readonly string[],
  budget: number,
): string {
  const held = holdersText(set, name, host, destination, peers, budget);
  if (held.byTimeWait) {
    const sock = set.add({ name: 'sockstatTwPeak', unit: 'sockets', plus: [sockstatTw(name)], peers: [] });
    const delay = set.maybe({
      name: 'sysctl',
      of: 'net.ipv4.tcp_tw_reuse_delay',
      unit: 'ms',
      plus: [sysctl(name, 'net.ipv4.tcp_tw_reuse_delay')],
      peers: [],
    });
    // A census sees moments: below the whole budget, the peaks of the states need not add up to it, and saying
    // "every port" beside "TIME_WAIT 97" of 100 read as a contradiction (a new user's 120-host run).
    const heldBy = held.everyPortInTimeWait
      ? `Every local port toward ${destination} was held by a socket in TIME_WAIT (per-peer census peaks on host ${name}: ${held.list}`
      : `The local ports toward ${destination} were held mostly by sockets in TIME_WAIT, the rest by connections not yet closed (per-peer census peaks on host ${name}: ${held.list}, of its ${n(budget)}-port budget; each state's peak is taken at its own sample, so they need not add up to the budget`;
    return (
      ` ${heldBy}; host-wide sockstat tw ${n(sock.value)}), and ${twReuseMeaning(host.sysctls, delay)}.` +
      ` What would change it: keep-alive (many requests per connection); a wider ip_local_port_range; more destination addresses or ports (the budget is per destination ip:port); ${twReuseRemedy(host.sysctls, delay)}or letting the server close first, so that its TIME_WAIT does not hold the client's ports.`
    );
  }
  if (held.byOpen) {
    return (
      ` Its ports toward ${destination} were held by connections still open, not by TIME_WAIT (per-peer census peaks on host ${name}: ${held.list}): a port stays taken while any socket holds its 4-tuple, and no sysctl frees it.` +
      ' What would change it: closing each connection when its work is done, or reusing it (keep-alive); a wider ip_local_port_range; more destination addresses or ports (the budget is per destination ip:port).'
    );
  }
  return ` Its ports toward ${destination} were held by these sockets (per-peer census peaks on host ${name}): ${held.list}.`;
}

/** Errors of the load actors by errno, with the mechanism behind EADDRNOTAVAIL; missed starts of the open model. */
export function loadErrorFindings({ plan, report }: FindingInput): Finding[] {
  const out: Finding[] = [];
  for (const actor of Object.values(plan.actors)) {
    if (actor.role !== 'load') continue;
    const stats = report.actors[actor.name];
    if (!stats) continue;
    const peers = [...new Set(connectionsOf(actor).dials.map((d) => d.to.host))];
    const its = { peers };
    const errors = stat(stats, 'errors') ?? {};
    const started = typeof stat(stats, 'startedAtMs') === 'number' ? [actorStat(actor.name, 'startedAtMs')] : [];
    const exhaustion = report.predictions[actor.name]?.exhaustion;
    const host = report.hosts[actor.host];
    for (const [code, e] of Object.entries(errors)) {
      const set = new ClaimSet({ plan, report });
      const count = set.add({
        name: 'errors',
        of: code,
        unit: 'errors',
        plus: [actorStat(actor.name, 'errors', code, 'count')],
        ...its,
      });
      const calls = Object.keys(e.syscalls).map((call) =>
        set.add({
          name: 'syscallErrors',
          of: `${code} ${call}`,
          unit: 'errors',
          plus: [actorStat(actor.name, 'errors', code, 'syscalls', call)],
          ...its,
        }),
      );
      const first = set.add({
        name: 'firstErrorAtMs',
        of: code,
        unit: 'ms',
        plus: [actorStat(actor.name, 'errors', code, 'firstAtMs')],
        minus: started,
        ...its,
      });
      let s = `${errnoWords(code)} ${n(count.value)} times on host ${actor.host} (actor ${actor.name}; ${syscallWords(calls, code)}), first ${duration(first.value)} into the load.`;
      if (code === 'EADDRNOTAVAIL' && exhaustion && host && actor.connect) {
        const predicted = (field: string, unit: 'ms' | 'ports' | 'per second' | 'count') =>
          set.maybe({
            name: 'prediction',
            of: `exhaustion.${field}`,
            unit,
            plus: [{ from: 'prediction', actor: actor.name, kind: 'exhaustion', field }],
            ...its,
          });
        const [at, ports, rate, ratio] = [
          predicted('predictedMs', 'ms'),
          predicted('portBudget', 'ports'),
          predicted('connectRate', 'per second'),
          predicted('ratio', 'count'),
        ];
        if (at && ports && rate)
          s += ` Predicted ${duration(at.value)}: ${n(ports.value)} ports / ${decimal(rate.value, 2)} new connections per second (measured/predicted ${ratio ? decimal(ratio.value) : 'unknown'}).`;
        s += portsHeld(
          set,
          actor.host,
          host,
          endpointText(actor.connect.address, actor.connect.port),
          [actor.connect.host],
          exhaustion.portBudget,
        );
      }
      out.push(set.finding('load-errors', actor.host, peers, s));
    }
    if ((stat(stats, 'missedStarts') ?? 0) > 0) {
      const set = new ClaimSet({ plan, report });
      const missed = set.add({
        name: 'missedStarts',
        unit: 'connections',
        plus: [actorStat(actor.name, 'missedStarts')],
        ...its,
      });
      let m = `Actor ${actor.name} missed ${n(missed.value)} scheduled starts: the open model counts a start that cannot begin on time rather than delaying it.`;
      const count = set.maybe({
        name: 'planned',
        of: 'count',
        unit: 'connections',
        plus: [{ from: 'model', actor: actor.name, field: 'count' }],
        ...its,
      });
      const attempts = set.maybe({
        name: 'attempts',
        unit: 'connections',
        plus: [actorStat(actor.name, 'attempts')],
        ...its,
      });
      const connected = set.maybe({
        name: 'connections',
        unit: 'connections',
        plus: [actorStat(actor.name, 'connected')],
        ...its,
      });
      // count bounds the schedule, missed starts included: it is not the number of connections made.
      if (count && attempts && connected) {
        const started = `${n(attempts.value)} attempted (${n(connected.value)} connected) and ${n(missed.value)} missed`;
        // The load ends at its count or its duration, whichever comes first (short-conn-loop.ts limitReached).
        const unreached = count.value - attempts.value - missed.value;
        m +=
          unreached > 0
            ? ` Its duration ended before its count of ${n(count.value)} starts: ${started}, ${n(unreached)} never due.`
            : ` Its count of ${n(count.value)} starts includes them: ${started}.`;
      }
      const cliff = report.predictions[actor.name]?.parityCliff;
      if (cliff?.crossed) {
        const part = (field: string, unit: 'connections' | 'ports' | 'ms' | 'per second') =>
          set.add({
            name: 'prediction',
            of: `parityCliff.${field}`,
            unit,
            plus: [{ from: 'prediction', actor: actor.name, kind: 'parityCliff', field }],
            ...its,
          });
        const [made, half, at, slowed] = [
          part('connected', 'connections'),
          part('halfPorts', 'ports'),
          part('predictedAtMs', 'ms'),
          part('slowedRate', 'per second'),
        ];
        m += ` Its ${n(made.value)} connections passed ${n(half.value)}, the half of its port range connect() tries first (predicted at ${duration(at.value)}): from there every connect() scanned that whole held half before the other, about ${n(slowed.value)} connections per s at most, which is why starts were missed.`;
      }
      out.push(set.finding('load-errors', actor.host, peers, m));
    }
  }
  return out;
}
