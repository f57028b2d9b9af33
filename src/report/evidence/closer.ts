// Who closed first between hosts, from the kernel of each end. Only the side that sends the first FIN reaches
// tcp_time_wait(), and the kernel counts each such close (firstCloses: TcpExt.TW, TWKilled, and
// TCPTimeWaitOverflow past tcp_max_tw_buckets). Those counts are immune to what hides a peak: a server's
// TIME_WAIT entry taken over by a new SYN (RFC 6191) leaves the census but stays counted. A host's counters
// are host-wide, so they speak for these connections only when the host takes part in nothing else, or when
// its census never saw TIME_WAIT with any other peer of its; otherwise that end's per-peer census peak stands in.
// A close whose peer never answered with its own FIN reaches no timewait while the closer keeps its fd: it
// shows as FIN_WAIT_2 on the closer and CLOSE_WAIT on the other end.
//
// The unit is a peer group: the links into one server host that its census lists under one source address.
// Clients behind one masquerading gateway are one group: the server cannot tell them apart.
import type { HostReport, Report } from '../report.ts';
import { portBudget } from '../../core/port-budget.ts';
import { type Link, linksOf } from './links.ts';
import { counter, type EvidenceRef } from '../claims/claim.ts';
import { capPeer, firstCloses } from './time-wait.ts';

export interface SideEvidence {
  /** The end's host, or hosts (the clients of a group). */
  readonly hosts: readonly string[];
  /** Connections this end closed first (see basis). */
  readonly count: number;
  /** 'counters': the hosts' firstCloses, all of them these connections'; 'census': per-peer TIME_WAIT peaks (a lower bound). */
  readonly basis: 'counters' | 'census';
  /** Per-peer census peaks with the other end: TIME_WAIT (capped by sockstat tw), FIN_WAIT1 + FIN_WAIT2, CLOSE_WAIT. */
  readonly peer: { readonly timeWait: number; readonly finWait: number; readonly closeWait: number };
  /** Tcp.OutRsts of the hosts, host-wide. */
  readonly resets: number;
}

/**
 * 'client' / 'server': that end closed first on all the connections the kernels counted, or on all but at most
 * MINOR_SHARE of them; 'mixed': each end on a share; 'none': neither end's kernel counted a first close.
 */
export type FirstCloser = 'client' | 'server' | 'mixed' | 'none';

export interface CloserEvidence {
  /** The group's links: one server host, one source address in its census. */
  readonly links: readonly Link[];
  readonly serverHost: string;
  readonly clientHosts: readonly string[];
  /** The source address the server's census lists them under. */
  readonly seenAs: string;
  readonly client: SideEvidence;
  readonly server: SideEvidence;
  readonly first: FirstCloser;
  /** With first 'none': the end whose FIN was never answered (FIN_WAIT on it, CLOSE_WAIT at the other end). */
  readonly halfClosedBy?: 'client' | 'server';
}

/** Up to this share of the first closes, the other end's are noise around one closer (a close racing the peer's). */
export const MINOR_SHARE = 0.05;

type Hosts = Report['hosts'];
type Counts = Partial<Record<string, number>>;

/** The links into one server host under one source address. */
export function peerGroups(links: readonly Link[]): Link[][] {
  const groups = new Map<string, Link[]>();
  for (const l of links) groups.set(`${l.server}\0${l.seenAs}`, [...(groups.get(`${l.server}\0${l.seenAs}`) ?? []), l]);
  return [...groups.values()];
}

/** The groups a host takes part in, on either end. */
export function groupsOf(links: readonly Link[], host: string): Link[][] {
  return peerGroups(linksOf(links, host));
}

/** Where a host's census lists the other end of `links` (its end: client or server): role and peer key. */
export function peerKeys(
  host: HostReport,
  links: readonly Link[],
  end: 'client' | 'server',
): { role: 'listen' | 'ephemeral'; peer: string }[] {
  if (end === 'client')
    return [...new Set(links.flatMap((l) => l.destinations))].map((peer) => ({ role: 'ephemeral', peer }));
  const seenAs = links[0]!.seenAs;
  const out: { role: 'listen' | 'ephemeral'; peer: string }[] = [{ role: 'listen', peer: seenAs }];
  // Reports made before roles came from the server ports listed a closed listener's sockets as ephemeral,
  // keyed by the client's ip:port: those keys are this peer too.
  const destinations = links.flatMap((l) => l.destinations);
  for (const peer of Object.keys(host.peak.peers.ephemeral)) {
    if (peer.startsWith(`${seenAs}:`) && !destinations.includes(peer)) out.push({ role: 'ephemeral', peer });
  }
  return out;
}

/** A host's per-peer census peaks with the other end of `links`. */
function peerCounts(host: HostReport, links: readonly Link[], end: 'client' | 'server'): Counts[] {
  return peerKeys(host, links, end).map((k) => host.peak.peers[k.role][k.peer] ?? {});
}

const sum = (counts: Counts[], ...states: string[]) =>
  counts.reduce((s, c) => s + states.reduce((t, st) => t + (c[st] ?? 0), 0), 0);

/** One host's evidence as the `end` of `mine` (links it shares one role in). */
function hostSide(
  hosts: Hosts,
  all: readonly Link[],
  mine: readonly Link[],
  name: string,
  end: 'client' | 'server',
): SideEvidence {
  const host = hosts[name]!;
  const counts = peerCounts(host, mine, end);
  // One TIME_WAIT per 4-tuple: toward each destination no more than the client's ports.
  const perDestination = end === 'client' ? (mine[0]!.ownPorts ?? portBudget(host.sysctls)?.budget) : undefined;
  const ports =
    perDestination === undefined ? undefined : perDestination * new Set(mine.flatMap((l) => l.destinations)).size;
  const peer = {
    timeWait: capPeer(sum(counts, 'TIME_WAIT'), host, ports),
    finWait: sum(counts, 'FIN_WAIT1', 'FIN_WAIT2'),
    closeWait: sum(counts, 'CLOSE_WAIT'),
  };
  // The host's counters are these connections' when its census saw TIME_WAIT with no peer of any other group it is in.
  const others = groupsOf(all, name).filter((g) => !g.some((l) => mine.includes(l)));
  const attributable = others.every((g) => {
    const asServer = g[0]!.server === name;
    return (
      sum(
        peerCounts(host, asServer ? g : g.filter((l) => l.client === name), asServer ? 'server' : 'client'),
        'TIME_WAIT',
      ) === 0
    );
  });
  return {
    hosts: [name],
    count: attributable ? firstCloses(host) : peer.timeWait,
    basis: attributable ? 'counters' : 'census',
    peer,
    resets: host.counters.delta['Tcp.OutRsts'] ?? 0,
  };
}

function combine(sides: SideEvidence[]): SideEvidence {
  return {
    hosts: sides.flatMap((s) => s.hosts),
    count: sides.reduce((a, s) => a + s.count, 0),
    basis: sides.every((s) => s.basis === 'counters') ? 'counters' : 'census',
    peer: {
      timeWait: sides.reduce((a, s) => a + s.peer.timeWait, 0),
      finWait: sides.reduce((a, s) => a + s.peer.finWait, 0),
      closeWait: sides.reduce((a, s) => a + s.peer.closeWait, 0),
    },
    resets: sides.reduce((a, s) => a + s.resets, 0),
  };
}

/** Evidence for one peer group (links with one server host and one source address). */
export function closerEvidence(hosts: Hosts, all: readonly Link[], group: readonly Link[]): CloserEvidence | undefined {
  const serverHost = group[0]?.server;
  const clientHosts = [...new Set(group.map((l) => l.client))];
  if (!serverHost || !hosts[serverHost] || clientHosts.some((c) => !hosts[c])) return undefined;
  const server = hostSide(hosts, all, group, serverHost, 'server');
  const client = combine(
    clientHosts.map((c) =>
      hostSide(
        hosts,
        all,
        group.filter((l) => l.client === c),
        c,
        'client',
      ),
    ),
  );
  const first = firstCloser(client.count, server.count);
  const halfClosedBy =
    first !== 'none'
      ? undefined
      : server.peer.finWait > 0 && client.peer.closeWait > 0 && client.peer.finWait === 0
        ? 'server'
        : client.peer.finWait > 0 && server.peer.closeWait > 0 && server.peer.finWait === 0
          ? 'client'
          : undefined;
  return {
    links: group,
    serverHost,
    clientHosts,
    seenAs: group[0]!.seenAs,
    client,
    server,
    first,
    ...(halfClosedBy ? { halfClosedBy } : {}),
  };
}

/** Evidence for every peer group a host takes part in. */
export function evidenceOf(hosts: Hosts, all: readonly Link[], host: string): CloserEvidence[] {
  return groupsOf(all, host).flatMap((g) => closerEvidence(hosts, all, g) ?? []);
}

export function firstCloser(client: number, server: number): FirstCloser {
  if (client === 0 && server === 0) return 'none';
  const total = client + server;
  if (server <= total * MINOR_SHARE) return 'client';
  if (client <= total * MINOR_SHARE) return 'server';
  return 'mixed';
}

/** Connections made in a group, and the evidence: the server host's Tcp.PassiveOpens when it serves this group only. */
export function groupConnections(
  hosts: Hosts,
  all: readonly Link[],
  e: CloserEvidence,
  connected: (actor: string) => number | undefined,
): { count: number; basis: string; refs: EvidenceRef[] } | undefined {
  const server = hosts[e.serverHost];
  if (
    server &&
    groupsOf(all, e.serverHost).length === 1 &&
    linksOf(all, e.serverHost).every((l) => l.server === e.serverHost)
  ) {
    return {
      count: server.counters.delta['Tcp.PassiveOpens'] ?? 0,
      basis: `Tcp.PassiveOpens on host ${e.serverHost}`,
      refs: [counter(e.serverHost, 'Tcp.PassiveOpens')],
    };
  }
  const actors = e.links.flatMap((l) => l.clientActors);
  const counts = actors.map(connected);
  if (counts.every((c) => typeof c === 'number')) {
    return {
      count: counts.reduce((a, b) => a! + b!, 0)!,
      basis: `connections made by ${actors.join(', ')}`,
      refs: actors.map((actor) => ({ from: 'actor-stat', actor, stat: 'connected' })),
    };
  }
  return undefined;
}
