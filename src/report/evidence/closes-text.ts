// How a finding names the evidence of who closed first: the counters it read, or the census peak it fell back on.
import type { HostReport } from '../report.ts';
import type { CloserEvidence, SideEvidence } from './closer.ts';
import { n } from '../findings/words.ts';


/** "TcpExt.TW +30" with TWKilled and TCPTimeWaitOverflow where they moved. */
export function firstCloseCounters(host: HostReport): string {
  const d = host.counters.delta;
  const parts = [`TcpExt.TW +${n(d['TcpExt.TW'] ?? 0)}`];
  if (d['TcpExt.TWKilled']) parts.push(`TcpExt.TWKilled +${n(d['TcpExt.TWKilled'])}`);
  if (d['TcpExt.TCPTimeWaitOverflow']) parts.push(`TcpExt.TCPTimeWaitOverflow +${n(d['TcpExt.TCPTimeWaitOverflow'])}`);
  return parts.join(', ');
}

/** "host a", "hosts a, b and c". */
export function hostsText(hosts: readonly string[]): string {
  return hosts.length === 1 ? `host ${hosts[0]}` : `hosts ${hosts.slice(0, -1).join(', ')} and ${hosts.at(-1)}`;
}

/** "host proxy 880 (TcpExt.TW +880)", or the census fallback, for one end. */
export function sideText(side: SideEvidence, hosts: Record<string, HostReport>): string {
  const counters = side.hosts.map((h) => (side.hosts.length > 1 ? `${h}: ` : '') + firstCloseCounters(hosts[h]!)).join('; ');
  if (side.basis === 'counters') return `${hostsText(side.hosts)} ${n(side.count)} (${counters})`;
  return `${hostsText(side.hosts)} at least ${n(side.count)} (the TIME_WAIT peak with the other end in the census; the counters, ${counters}, also count other connections)`;
}

/** "first closes counted by each kernel: host a N (...), host b M (...)", `first` end first. */
export function closesText(e: CloserEvidence, hosts: Record<string, HostReport>, first: 'client' | 'server' = 'client'): string {
  const [a, b] = first === 'client' ? [e.client, e.server] : [e.server, e.client];
  return `first closes counted by each kernel: ${sideText(a, hosts)}, ${sideText(b, hosts)}`;
}

/** "hosts c1 and c2 (all seen from 198.18.1.1, the masquerade address of gateway gw)" for the clients of a group. */
export function clientsText(e: CloserEvidence): string {
  const via = e.links.find((l) => l.via)?.via;
  return `${hostsText(e.clientHosts)}${via ? ` (seen from ${e.seenAs}, the masquerade address of gateway ${via})` : ''}`;
}
