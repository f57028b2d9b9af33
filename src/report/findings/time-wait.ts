import { portBudget, TIME_WAIT_SECONDS } from '../../core/port-budget.ts';
import type { HostReport } from '../report.ts';
import { evidenceOf, groupConnections, type CloserEvidence } from '../evidence/closer.ts';
import { planLinks } from '../evidence/links.ts';
import { timeWaitCount, type TimeWaitCount } from '../evidence/time-wait.ts';
import { stat } from '../report.ts';
import type { FindingInput } from './rule.ts';
import {
  counter,
  hostFinal,
  hostPeak,
  peerPeak,
  portBudgetRef,
  sockstatTw,
  type EvidenceRef,
  type Finding,
} from '../claims/claim.ts';
import { closerClaims, connectionsClaim, groupPeers, simultaneousClaim } from '../claims/closer-claims.ts';
import { ClaimSet } from '../claims/measure.ts';
import { capitalised, closesWords, duration, hostsWords, n, pct } from './words.ts';

const REASON = `only the side that closes first enters TIME_WAIT, and it stays there ${TIME_WAIT_SECONDS} s (TCP_TIMEWAIT_LEN, fixed in the kernel; tcp_fin_timeout does not change it)`;

/**
 * Which host held TIME_WAIT, on which side, and who closed first: the census peak (capped by the kernel's own
 * sockstat tw), split by role so that its parts add up, and each link's first closes as the kernels counted them.
 */
export function timeWaitFindings(input: FindingInput): Finding[] {
  const { plan, report } = input;
  const links = planLinks(plan);
  const out: Finding[] = [];
  for (const [name, host] of Object.entries(report.hosts)) {
    const evidence = evidenceOf(report.hosts, links, name);
    const tw = timeWaitCount(host);
    if (tw.peak > 0) out.push(piledUp(input, name, host, tw, evidence));
    else out.push(...evidence.filter((e) => e.serverHost === name).flatMap((e) => noTimeWait(input, e)));
  }
  return out;
}

/** The host's TIME_WAIT census capped by the kernel's own count: the refs of every TIME_WAIT number said of it. */
function capOf(name: string, host: HostReport): EvidenceRef[] {
  return [hostPeak(name, 'TIME_WAIT'), ...(host.samples > 0 ? [sockstatTw(name)] : [])];
}

function splitText(set: ClaimSet, name: string, host: HostReport, tw: TimeWaitCount): string {
  const split = tw.split;
  if (!split) return '';
  if (split.from === 'direction') {
    const passive = set.add({
      name: 'counter',
      of: 'Tcp.PassiveOpens',
      unit: 'count',
      plus: [counter(name, 'Tcp.PassiveOpens')],
      peers: [],
    });
    const active = set.add({
      name: 'counter',
      of: 'Tcp.ActiveOpens',
      unit: 'count',
      plus: [counter(name, 'Tcp.ActiveOpens')],
      peers: [],
    });
    return split.listen > 0
      ? `, all on ports its servers listen on: it only accepted connections (Tcp.PassiveOpens +${n(passive.value)}, Tcp.ActiveOpens +${n(active.value)})`
      : `, all on its own local ports: it only connected out (Tcp.ActiveOpens +${n(active.value)}, Tcp.PassiveOpens +${n(passive.value)})`;
  }
  const atPeak = host.peak.split!.TIME_WAIT!;
  // A census above sockstat gives up its excess from its larger part: that part is the kernel's count less the other.
  const excess = atPeak.listen + atPeak.ephemeral - tw.peak > 0;
  const larger = atPeak.listen >= atPeak.ephemeral ? 'listen' : 'ephemeral';
  const part = (role: 'listen' | 'ephemeral') =>
    set.add({
      name: role === 'listen' ? 'timeWaitOnListenPorts' : 'timeWaitOnOwnPorts',
      unit: 'sockets',
      peers: [],
      ...(excess && role === larger
        ? {
            plus: [sockstatTw(name)],
            minus: [
              {
                from: 'split-peak',
                host: name,
                role: role === 'listen' ? 'ephemeral' : 'listen',
                state: 'TIME_WAIT',
              } as const,
            ],
          }
        : { plus: [{ from: 'split-peak', host: name, role, state: 'TIME_WAIT' } as const] }),
    });
  const [ephemeral, listen] = [part('ephemeral'), part('listen')];
  return ` (${n(ephemeral.value)} on its own local ports, ${n(listen.value)} on ports its servers listen on, in the sample that reached the peak)`;
}

function piledUp(
  { plan, report }: FindingInput,
  name: string,
  host: HostReport,
  tw: TimeWaitCount,
  evidence: CloserEvidence[],
): Finding {
  const set = new ClaimSet({ plan, report });
  const peak = set.add({
    name: 'timeWaitPeak',
    unit: 'sockets',
    plus: [hostPeak(name, 'TIME_WAIT')],
    cap: host.samples > 0 ? [sockstatTw(name)] : [],
    peers: [],
  });
  const at = set.add({
    name: 'statePeakAtMs',
    of: 'TIME_WAIT',
    unit: 'ms',
    plus: [{ from: 'peak-time', host: name, state: 'TIME_WAIT' }],
    peers: [],
  });
  let s = `TIME_WAIT piled up on host ${name}: peak ${n(peak.value)} at ${duration(at.value)}${splitText(set, name, host, tw)}.`;
  const sockstat = set.add({ name: 'sockstatTwPeak', unit: 'sockets', plus: [sockstatTw(name)], peers: [] });
  if (tw.census > tw.sockstat) {
    const census = set.add({
      name: 'statePeak',
      of: 'TIME_WAIT',
      unit: 'sockets',
      plus: [hostPeak(name, 'TIME_WAIT')],
      peers: [],
    });
    s += ` The /proc/net/tcp census counted ${n(census.value)}, more than the kernel's own count (sockstat tw ${n(sockstat.value)}): a table read is no snapshot, and sockstat is read apart from it; the kernel's count stands.`;
  } else {
    s += ` The kernel's own count (sockstat tw) peaked at ${n(sockstat.value)}.`;
  }
  const closers = evidence.filter((e) => (e.serverHost === name ? e.server : e.client).count > 0);
  for (const e of closers) {
    const side = e.serverHost === name ? 'server' : 'client';
    const sides = closerClaims(set, report.hosts, e, name);
    const peer = side === 'client' ? `host ${e.serverHost}` : clientsWords(e);
    const with_ = `its connections with ${peer}`;
    if (e.first === side)
      s += ` Host ${name} closed ${with_} first, as their ${side} side (${closesWords(sides, side)})`;
    else if (e.first === 'mixed')
      s += ` Who closed ${with_} first was mixed: host ${name} closed first on part of them, as their ${side} side, and ${side === 'client' ? peer : hostsWords(e.clientHosts)} on the rest (${closesWords(sides, side)})${simultaneous({ plan, report }, set, e, name)}`;
    else
      s += ` Host ${name} closed first on a few of ${with_}, as their ${side} side; the other end closed first on most (${closesWords(sides, side === 'client' ? 'server' : 'client')})`;
    s += '.';
  }
  if (closers.length === 0) {
    const entered = set.add({
      name: 'counter',
      of: 'TcpExt.TW',
      unit: 'count',
      plus: [counter(name, 'TcpExt.TW')],
      peers: [],
    });
    s += ` Host ${name} closed these connections first (TcpExt.TW +${n(entered.value)}).`;
  }
  s += ` ${capitalised(REASON)}.`;
  const budget = portBudget(host.sysctls);
  for (const e of closers.filter((c) => c.serverHost !== name && c.first !== 'server')) {
    for (const link of e.links.filter((l) => l.client === name)) {
      // A fixed local port is one 4-tuple per destination, and a proxy's own source ports (sourcePorts) are its
      // budget instead: ip_local_port_range is neither's.
      if (!budget || link.ownPorts !== undefined) continue;
      for (const d of link.destinations) {
        const peers = groupPeers(e, name);
        const held = set.add({
          name: 'peerTimeWait',
          unit: 'sockets',
          plus: [peerPeak(name, 'ephemeral', d, 'TIME_WAIT')],
          cap: [...capOf(name, host), portBudgetRef(name, budget.budget)],
          peers,
        });
        const ports = set.add({ name: 'portBudget', unit: 'ports', plus: [portBudgetRef(name, budget.budget)], peers });
        if (held.value > 0)
          s += ` Toward ${d} that is ${n(held.value)} of its ${n(ports.value)}-port ip_local_port_range (${budget.range}), ${pct(held.value, ports.value)} of the ports toward that ip:port.`;
      }
    }
  }
  const peers = [...new Set(evidence.flatMap((e) => groupPeers(e, name)))];
  return set.finding('time-wait', name, peers, s);
}

/** "hosts c1 and c2 (seen from 198.18.1.1, the masquerade address of gateway gw)" for the clients of a group. */
function clientsWords(e: CloserEvidence): string {
  const via = e.links.find((l) => l.via)?.via;
  return `${hostsWords(e.clientHosts)}${via ? ` (seen from ${e.seenAs}, the masquerade address of gateway ${via})` : ''}`;
}

/**
 * Closes on both ends beyond the connections made: connections closed at once from both sides. A census count
 * stands in for an end whose counters also count other connections: it is a lower bound, so the result is too.
 */
function simultaneous({ plan, report }: FindingInput, set: ClaimSet, e: CloserEvidence, from: string): string {
  const made = groupConnections(report.hosts, planLinks(plan), e, (a) => stat(report.actors[a], 'connected'));
  if (!made) return '';
  const both = simultaneousClaim(report.hosts, e, made, from);
  if (!both && (e.client.basis !== 'counters' || e.server.basis !== 'counters')) return '';
  const connections = set.keep(connectionsClaim(made, e, from));
  set.keep(both);
  return `; ${n(connections.value)} connections (${made.basis})${both ? `, so at least ${n(both.value)} were closed by both ends at once, a simultaneous close that puts each end in TIME_WAIT` : ''}`;
}

/** A host that held no TIME_WAIT on a link it serves: its peers closed first, or nobody closed at all. */
function noTimeWait({ plan, report }: FindingInput, e: CloserEvidence): Finding[] {
  const set = new ClaimSet({ plan, report });
  const peak = set.add({
    name: 'timeWaitPeak',
    unit: 'sockets',
    plus: [hostPeak(e.serverHost, 'TIME_WAIT')],
    peers: [],
  });
  const sock = set.add({ name: 'sockstatTwPeak', unit: 'sockets', plus: [sockstatTw(e.serverHost)], peers: [] });
  const sides = closerClaims(set, report.hosts, e, e.serverHost);
  const finding = (text: string) => set.finding('time-wait', e.serverHost, e.clientHosts, text);
  if (e.first === 'client') {
    return [
      finding(
        `Host ${e.serverHost} held no TIME_WAIT (peak ${n(peak.value)}; sockstat tw ${n(sock.value)}): ${clientsWords(e)} closed first on ${e.clientHosts.length > 1 ? 'their' : 'its'} connections here (${closesWords(sides, 'client')}), and host ${e.serverHost} closed only after their FIN, a passive close that ends in LAST_ACK, not TIME_WAIT.`,
      ),
    ];
  }
  if (
    e.first === 'none' &&
    !e.halfClosedBy &&
    e.client.resets === 0 &&
    e.server.resets === 0 &&
    e.client.peer.timeWait === 0
  ) {
    const hosts = [e.serverHost, ...e.clientHosts];
    const resets = set.add({
      name: 'counter',
      of: 'Tcp.OutRsts',
      unit: 'count',
      plus: hosts.map((h) => counter(h, 'Tcp.OutRsts')),
      peers: [],
    });
    const closes = [sides.client, sides.server]
      .flatMap((side) => (side.firstCloses ? [side.firstCloses.value] : []))
      .reduce((a, b) => a + b, 0);
    const open = (h: string) => {
      const established = set.add({
        name: 'stateFinal',
        of: 'ESTABLISHED',
        unit: 'sockets',
        plus: [hostFinal(h, 'ESTABLISHED')],
        peers: [],
      });
      const closeWait = set.add({
        name: 'stateFinal',
        of: 'CLOSE_WAIT',
        unit: 'sockets',
        plus: [hostFinal(h, 'CLOSE_WAIT')],
        peers: [],
      });
      return `host ${h} had ${n(established.value)} ESTABLISHED and ${n(closeWait.value)} CLOSE_WAIT`;
    };
    return [
      finding(
        `Host ${e.serverHost} held no TIME_WAIT, and neither did ${hostsWords(e.clientHosts)}: none of their connections was closed during the measurement (no first close counted on either end: TcpExt.TW, TWKilled and TCPTimeWaitOverflow +${n(closes)}; Tcp.OutRsts +${n(resets.value)}). At the last sample (host-wide) ${hosts.map(open).join(', ')}.`,
      ),
    ];
  }
  return [];
}
