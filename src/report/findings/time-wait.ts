import { formatDuration } from '../../core/units.ts';
import { portBudget, TIME_WAIT_SECONDS } from '../../core/port-budget.ts';
import type { HostReport } from '../report.ts';
import { evidenceOf, groupConnections, type CloserEvidence } from '../evidence/closer.ts';
import { clientsText, closesText, hostsText } from '../evidence/closes-text.ts';
import { planLinks } from '../evidence/links.ts';
import { capPeer, timeWaitCount, type TimeWaitCount } from '../evidence/time-wait.ts';
import { stat } from '../report.ts';
import type { FindingInput } from './rule.ts';
import type { Claim, Finding } from '../claims/claim.ts';
import { connectionsClaim, firstClosesClaim, groupPeers, simultaneousClaim } from '../claims/closer-claims.ts';
import { n, pct } from './words.ts';

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

function splitText(host: HostReport, tw: TimeWaitCount): string {
  const d = host.counters.delta;
  const split = tw.split;
  if (!split) return '';
  if (split.from === 'direction') {
    return split.listen > 0
      ? `, all on ports its servers listen on: it only accepted connections (Tcp.PassiveOpens +${n(d['Tcp.PassiveOpens'] ?? 0)}, Tcp.ActiveOpens +0)`
      : `, all on its own local ports: it only connected out (Tcp.ActiveOpens +${n(d['Tcp.ActiveOpens'] ?? 0)}, Tcp.PassiveOpens +0)`;
  }
  return ` (${n(split.ephemeral)} on its own local ports, ${n(split.listen)} on ports its servers listen on, in the sample that reached the peak)`;
}

function piledUp({ plan, report }: FindingInput, name: string, host: HostReport, tw: TimeWaitCount, evidence: CloserEvidence[]): Finding {
  const claims: Claim[] = [{ name: 'timeWaitPeak', value: tw.peak, unit: 'sockets', bound: 'exact', derive: 'sum', plus: [{ from: 'host-peak', host: name, state: 'TIME_WAIT' }], ...(host.samples > 0 ? { cap: [{ from: 'sockstat-tw', host: name }] } : {}) }];
  let s = `TIME_WAIT piled up on host ${name}: peak ${n(tw.peak)} at ${formatDuration(host.peak.atMs.TIME_WAIT ?? 0)}${splitText(host, tw)}.`;
  s += tw.census > tw.sockstat
    ? ` The /proc/net/tcp census counted ${n(tw.census)}, more than the kernel's own count (sockstat tw ${n(tw.sockstat)}): a table read is no snapshot, and sockstat is read apart from it; the kernel's count stands.`
    : ` The kernel's own count (sockstat tw) peaked at ${n(tw.sockstat)}.`;
  const closers = evidence.filter((e) => (e.serverHost === name ? e.server : e.client).count > 0);
  for (const e of closers) {
    const side = e.serverHost === name ? 'server' : 'client';
    for (const end of ['client', 'server'] as const) {
      const c = firstClosesClaim(report.hosts, e, end, name);
      if (c) claims.push(c);
    }
    const peer = side === 'client' ? `host ${e.serverHost}` : clientsText(e);
    const with_ = `its connections with ${peer}`;
    if (e.first === side) s += ` Host ${name} closed ${with_} first, as their ${side} side (${closesText(e, report.hosts, side)})`;
    else if (e.first === 'mixed') s += ` Who closed ${with_} first was mixed: host ${name} closed first on part of them, as their ${side} side, and ${side === 'client' ? peer : hostsText(e.clientHosts)} on the rest (${closesText(e, report.hosts, side)})${simultaneous({ plan, report }, e, name, claims)}`;
    else s += ` Host ${name} closed first on a few of ${with_}, as their ${side} side; the other end closed first on most (${closesText(e, report.hosts, side === 'client' ? 'server' : 'client')})`;
    s += '.';
  }
  if (closers.length === 0) s += ` Host ${name} closed these connections first (TcpExt.TW +${n(host.counters.delta['TcpExt.TW'] ?? 0)}).`;
  s += ` ${REASON[0]!.toUpperCase()}${REASON.slice(1)}.`;
  const budget = portBudget(host.sysctls);
  for (const link of closers.filter((c) => c.serverHost !== name && c.first !== 'server').flatMap((c) => c.links.filter((l) => l.client === name))) {
    // A fixed local port is one 4-tuple per destination, and a proxy's own source ports (sourcePorts) are its
    // budget instead: ip_local_port_range is neither's.
    if (!budget || link.ownPorts !== undefined) continue;
    for (const d of link.destinations) {
      const held = capPeer(host.peak.peers.ephemeral[d]?.TIME_WAIT ?? 0, host, budget.budget);
      if (held > 0) s += ` Toward ${d} that is ${n(held)} of its ${n(budget.budget)}-port ip_local_port_range (${budget.range}), ${pct(held, budget.budget)} of the ports toward that ip:port.`;
    }
  }
  const peers = [...new Set(evidence.flatMap((e) => groupPeers(e, name)))];
  return { rule: 'time-wait', host: name, peers, claims, text: s };
}

/**
 * Closes on both ends beyond the connections made: connections closed at once from both sides. A census count
 * stands in for an end whose counters also count other connections: it is a lower bound, so the result is too.
 */
function simultaneous({ plan, report }: FindingInput, e: CloserEvidence, from: string, claims: Claim[]): string {
  const made = groupConnections(report.hosts, planLinks(plan), e, (a) => stat(report.actors[a], 'connected'));
  if (!made) return '';
  const both = simultaneousClaim(report.hosts, e, made, from);
  if (!both && (e.client.basis !== 'counters' || e.server.basis !== 'counters')) return '';
  claims.push(connectionsClaim(made, e, from));
  if (both) claims.push(both);
  return `; ${n(made.count)} connections (${made.basis})${both ? `, so at least ${n(both.value)} were closed by both ends at once, a simultaneous close that puts each end in TIME_WAIT` : ''}`;
}

/** A host that held no TIME_WAIT on a link it serves: its peers closed first, or nobody closed at all. */
function noTimeWait({ report }: FindingInput, e: CloserEvidence): Finding[] {
  const server = report.hosts[e.serverHost]!;
  const sock = server.peak.sockstatTw;
  const claims = (['client', 'server'] as const).flatMap((end) => firstClosesClaim(report.hosts, e, end, e.serverHost) ?? []);
  const finding = (text: string): Finding => ({ rule: 'time-wait', host: e.serverHost, peers: [...e.clientHosts], claims, text });
  if (e.first === 'client') {
    return [finding(`Host ${e.serverHost} held no TIME_WAIT (peak 0; sockstat tw ${n(sock)}): ${clientsText(e)} closed first on ${e.clientHosts.length > 1 ? 'their' : 'its'} connections here (${closesText(e, report.hosts, 'client')}), and host ${e.serverHost} closed only after their FIN, a passive close that ends in LAST_ACK, not TIME_WAIT.`)];
  }
  const clients = e.clientHosts.map((c) => report.hosts[c]!);
  if (e.first === 'none' && !e.halfClosedBy && e.client.resets === 0 && e.server.resets === 0 && e.client.peer.timeWait === 0) {
    const open = (name: string, h: HostReport) => `host ${name} had ${n(h.final.ESTABLISHED)} ESTABLISHED and ${n(h.final.CLOSE_WAIT)} CLOSE_WAIT`;
    return [finding(`Host ${e.serverHost} held no TIME_WAIT, and neither did ${hostsText(e.clientHosts)}: none of their connections was closed during the measurement (no first close counted on either end: TcpExt.TW, TWKilled and TCPTimeWaitOverflow +0; Tcp.OutRsts +0). At the last sample (host-wide) ${[open(e.serverHost, server), ...e.clientHosts.map((c, i) => open(c, clients[i]!))].join(', ')}.`)];
  }
  return [];
}
