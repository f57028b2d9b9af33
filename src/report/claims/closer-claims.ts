// Claims about who closed a peer group's connections first: each end's first closes (its kernel's counters where
// they are the group's alone, else its per-peer census TIME_WAIT as a lower bound), and the connections both ends
// closed at once (first closes on both ends beyond the connections made: each such connection entered TIME_WAIT
// on both sides).
import type { HostReport } from '../report.ts';
import { portBudget } from '../../core/port-budget.ts';
import { peerKeys, type CloserEvidence, type SideEvidence } from '../evidence/closer.ts';
import type { Link } from '../evidence/links.ts';
import { firstCloseCounters, type Claim, type EvidenceRef } from './claim.ts';

type Hosts = Record<string, HostReport>;

/** The refs a side's count is drawn from, and what caps it; undefined where no single derivation gives it. */
function sideRefs(hosts: Hosts, e: CloserEvidence, end: 'client' | 'server'): { plus: EvidenceRef[]; cap: EvidenceRef[] } | undefined {
  const side = end === 'client' ? e.client : e.server;
  if (side.basis === 'counters') return { plus: side.hosts.flatMap(firstCloseCounters), cap: [] };
  // A census count is capped per host: one host per end, or no claim.
  if (side.hosts.length !== 1) return undefined;
  const name = side.hosts[0]!;
  const host = hosts[name]!;
  const mine: readonly Link[] = end === 'client' ? e.links.filter((l) => l.client === name) : e.links;
  const plus: EvidenceRef[] = peerKeys(host, mine, end).map((k) => ({ from: 'peer-peak', host: name, role: k.role, peer: k.peer, state: 'TIME_WAIT' }));
  const cap: EvidenceRef[] = [{ from: 'host-peak', host: name, state: 'TIME_WAIT' }];
  if (host.samples > 0) cap.push({ from: 'sockstat-tw', host: name });
  const perDestination = end === 'client' ? mine[0]!.ownPorts ?? portBudget(host.sysctls)?.budget : undefined;
  if (perDestination !== undefined) cap.push({ from: 'port-budget', host: name, ports: perDestination * new Set(mine.flatMap((l) => l.destinations)).size });
  return { plus, cap };
}

/** Peers of the group as seen from `host`. */
export function groupPeers(e: CloserEvidence, host: string): string[] {
  return e.serverHost === host ? [...e.clientHosts] : [e.serverHost];
}

export function firstClosesClaim(hosts: Hosts, e: CloserEvidence, end: 'client' | 'server', from: string): Claim | undefined {
  const side: SideEvidence = end === 'client' ? e.client : e.server;
  const refs = sideRefs(hosts, e, end);
  if (!refs) return undefined;
  return { name: 'firstCloses', value: side.count, unit: 'connections', bound: side.basis === 'counters' ? 'exact' : 'at-least', derive: 'sum', plus: refs.plus, ...(refs.cap.length ? { cap: refs.cap } : {}), peers: groupPeers(e, from) };
}

/**
 * At least this many of the group's connections were closed by both ends at once: the first closes both kernels
 * counted (or a census lower bound of them) beyond the connections made. Undefined where a cap bites (the sum
 * would not be a lower bound) or where none were.
 */
export function simultaneousClaim(hosts: Hosts, e: CloserEvidence, made: { count: number; refs: EvidenceRef[] }, from: string): Claim | undefined {
  const client = sideRefs(hosts, e, 'client');
  const server = sideRefs(hosts, e, 'server');
  if (!client || !server) return undefined;
  const uncapped = (refs: EvidenceRef[]) => refs.reduce((a, r) => a + (r.from === 'counter' ? hosts[r.host]!.counters.delta[r.counter] ?? 0 : r.from === 'peer-peak' ? hosts[r.host]!.peak.peers[r.role][r.peer]?.[r.state] ?? 0 : 0), 0);
  if (uncapped(client.plus) !== e.client.count || uncapped(server.plus) !== e.server.count) return undefined;
  const both = e.client.count + e.server.count - made.count;
  if (both <= 0) return undefined;
  return { name: 'simultaneousCloses', value: both, unit: 'connections', bound: 'at-least', derive: 'sum', plus: [...client.plus, ...server.plus], minus: made.refs, peers: groupPeers(e, from) };
}

export function connectionsClaim(made: { count: number; refs: EvidenceRef[] }, e: CloserEvidence, from: string): Claim {
  return { name: 'connections', value: made.count, unit: 'connections', bound: 'exact', derive: 'sum', plus: made.refs, peers: groupPeers(e, from) };
}
