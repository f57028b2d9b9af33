// Claims about who closed a peer group's connections first: each end's first closes (its kernel's counters where
// they are the group's alone, else its per-peer census TIME_WAIT as a lower bound), and the connections both ends
// closed at once (first closes on both ends beyond the connections made: each such connection entered TIME_WAIT
// on both sides).
import type { HostReport } from '../report.ts';
import { portBudget } from '../../core/port-budget.ts';
import { peerKeys, type CloserEvidence, type SideEvidence } from '../evidence/closer.ts';
import type { Link } from '../evidence/links.ts';
import { counter, FIRST_CLOSE_COUNTERS, firstCloseCounters, type Claim, type EvidenceRef } from './claim.ts';
import type { ClaimSet } from './measure.ts';

type Hosts = Record<string, HostReport>;

/** The refs a side's count is drawn from, and what caps it; undefined where no single derivation gives it. */
function sideRefs(
  hosts: Hosts,
  e: CloserEvidence,
  end: 'client' | 'server',
): { plus: EvidenceRef[]; cap: EvidenceRef[] } | undefined {
  const side = end === 'client' ? e.client : e.server;
  if (side.basis === 'counters') return { plus: side.hosts.flatMap(firstCloseCounters), cap: [] };
  // A census count is capped per host: one host per end, or no claim.
  if (side.hosts.length !== 1) return undefined;
  const name = side.hosts[0]!;
  const host = hosts[name]!;
  const mine: readonly Link[] = end === 'client' ? e.links.filter((l) => l.client === name) : e.links;
  const plus: EvidenceRef[] = peerKeys(host, mine, end).map((k) => ({
    from: 'peer-peak',
    host: name,
    role: k.role,
    peer: k.peer,
    state: 'TIME_WAIT',
  }));
  const cap: EvidenceRef[] = [{ from: 'host-peak', host: name, state: 'TIME_WAIT' }];
  if (host.samples > 0) cap.push({ from: 'sockstat-tw', host: name });
  const perDestination = end === 'client' ? (mine[0]!.ownPorts ?? portBudget(host.sysctls)?.budget) : undefined;
  if (perDestination !== undefined)
    cap.push({
      from: 'port-budget',
      host: name,
      ports: perDestination * new Set(mine.flatMap((l) => l.destinations)).size,
    });
  return { plus, cap };
}

/** Peers of the group as seen from `host`. */
export function groupPeers(e: CloserEvidence, host: string): string[] {
  return e.serverHost === host ? [...e.clientHosts] : [e.serverHost];
}

export function firstClosesClaim(
  hosts: Hosts,
  e: CloserEvidence,
  end: 'client' | 'server',
  from: string,
): Claim | undefined {
  const side: SideEvidence = end === 'client' ? e.client : e.server;
  const refs = sideRefs(hosts, e, end);
  if (!refs) return undefined;
  return {
    name: 'firstCloses',
    value: side.count,
    unit: 'connections',
    bound: side.basis === 'counters' ? 'exact' : 'at-least',
    derive: 'sum',
    plus: refs.plus,
    ...(refs.cap.length ? { cap: refs.cap } : {}),
    peers: groupPeers(e, from),
    end,
  };
}

/**
 * At least this many of the group's connections were closed by both ends at once: the first closes both kernels
 * counted (or a census lower bound of them) beyond the connections made. Undefined where a cap bites (the sum
 * would not be a lower bound) or where none were.
 */
export function simultaneousClaim(
  hosts: Hosts,
  e: CloserEvidence,
  made: { count: number; refs: EvidenceRef[] },
  from: string,
): Claim | undefined {
  const client = sideRefs(hosts, e, 'client');
  const server = sideRefs(hosts, e, 'server');
  if (!client || !server) return undefined;
  const uncapped = (refs: EvidenceRef[]) =>
    refs.reduce(
      (a, r) =>
        a +
        (r.from === 'counter'
          ? (hosts[r.host]!.counters.delta[r.counter] ?? 0)
          : r.from === 'peer-peak'
            ? (hosts[r.host]!.peak.peers[r.role][r.peer]?.[r.state] ?? 0)
            : 0),
      0,
    );
  if (uncapped(client.plus) !== e.client.count || uncapped(server.plus) !== e.server.count) return undefined;
  const both = e.client.count + e.server.count - made.count;
  if (both <= 0) return undefined;
  return {
    name: 'simultaneousCloses',
    value: both,
    unit: 'connections',
    bound: 'at-least',
    derive: 'sum',
    plus: [...client.plus, ...server.plus],
    minus: made.refs,
    peers: groupPeers(e, from),
  };
}

export function connectionsClaim(made: { count: number; refs: EvidenceRef[] }, e: CloserEvidence, from: string): Claim {
  return {
    name: 'connections',
    value: made.count,
    unit: 'connections',
    bound: 'exact',
    derive: 'sum',
    plus: made.refs,
    peers: groupPeers(e, from),
  };
}

/** One end's first closes as claimed: its count (absent where no single derivation gives it), and each host's counters. */
export interface SideClaims {
  readonly hosts: readonly string[];
  readonly basis: 'counters' | 'census';
  readonly firstCloses?: Claim;
  /** Per host of the end: TcpExt.TW, and TWKilled and TCPTimeWaitOverflow where they moved. */
  readonly counters: readonly (readonly Claim[])[];
}

/** The claims of who closed a group's connections first, both ends, recorded in `set`; `from` is the finding's host. */
export function closerClaims(
  set: ClaimSet,
  hosts: Hosts,
  e: CloserEvidence,
  from: string,
): { client: SideClaims; server: SideClaims } {
  const side = (end: 'client' | 'server'): SideClaims => {
    const evidence = end === 'client' ? e.client : e.server;
    const firstCloses = set.keep(firstClosesClaim(hosts, e, end, from));
    // Counters speak for the group only where they are all its own; otherwise they are the host's, said as such.
    const peers = evidence.basis === 'counters' ? groupPeers(e, from) : [];
    const counters = evidence.hosts.map((h) =>
      FIRST_CLOSE_COUNTERS.filter((c) => c === 'TcpExt.TW' || (hosts[h]!.counters.delta[c] ?? 0) !== 0).map((c) =>
        set.add({ name: 'counter', of: c, unit: 'count', plus: [counter(h, c)], peers }),
      ),
    );
    return { hosts: evidence.hosts, basis: evidence.basis, ...(firstCloses ? { firstCloses } : {}), counters };
  };
  const sides = { client: side('client'), server: side('server') };
  const [client, server] = [sides.client.firstCloses, sides.server.firstCloses];
  // Each end's share of the first closes, where both are counted exactly: who closed first, as a number.
  if (client && server && !client.cap && !server.cap) {
    for (const [end, mine] of [
      ['client', client],
      ['server', server],
    ] as const) {
      set.maybe({
        name: 'firstCloseShare',
        unit: 'share',
        derive: 'ratio',
        plus: mine.plus,
        minus: [...client.plus, ...server.plus],
        peers: groupPeers(e, from),
        end,
      });
    }
  }
  return sides;
}
