// Findings as typed claims: each number a finding states, with the evidence it was drawn from, so that the truth
// check can re-derive it from the report alone and the words can be written from it. A finding speaks for one
// host and the peers of one group (the hosts at the other end of its connections), never for the whole host.
import type { TcpStateName } from '../../sampler/tcp-states.ts';

/** Where a number comes from in report.json. */
export type EvidenceRef =
  /** hosts.<host>.counters.delta[<counter>]: host-wide, so it speaks for a group only when the host has no other. */
  | { readonly from: 'counter'; readonly host: string; readonly counter: string }
  /** hosts.<host>.peak.peers.<role>[<peer>][<state>]: the census peak with one peer (ip:port or a source address). */
  | { readonly from: 'peer-peak'; readonly host: string; readonly role: 'listen' | 'ephemeral'; readonly peer: string; readonly state: TcpStateName }
  /** hosts.<host>.peak.total[<state>]: the census peak over the whole host. */
  | { readonly from: 'host-peak'; readonly host: string; readonly state: TcpStateName }
  /** hosts.<host>.peak.sockstatTw: the kernel's own TIME_WAIT count at its highest sample. */
  | { readonly from: 'sockstat-tw'; readonly host: string }
  /** actors.<actor>.<stat>: a number an actor reported. */
  | { readonly from: 'actor-stat'; readonly actor: string; readonly stat: string }
  /** A bound that comes from configuration, not measurement (a port budget): stated, and checked against the plan's sysctls. */
  | { readonly from: 'port-budget'; readonly host: string; readonly ports: number }
  /** captures[host].evidence: frames of a host's packet capture, counted per peer address (byPeer) or as late writes. */
  | { readonly from: 'capture-frames'; readonly host: string; readonly count: CaptureCount; readonly peer?: string };

/**
 * What a capture counts: per peer, connections whose first FIN this host's end sent ('localFirst'), the peer's,
 * or both at once; and data written after the peer's FIN ('lateWrites'), answered by RST ('lateWritesReset').
 */
export type CaptureCount = 'connections' | 'localFirst' | 'peerFirst' | 'both' | 'lateWrites' | 'lateWritesReset';

/**
 * How a claim's value follows from its evidence: 'sum' adds the `plus` refs and takes away the `minus` ones;
 * 'ratio' is the sum of `plus` over the sum of `minus` (connections per request). Either is then capped by the
 * smallest of `cap` (a census peak by the kernel's own count and by a port budget).
 */
export type Derivation = 'sum' | 'ratio';

export type ClaimUnit = 'connections' | 'sockets' | 'requests' | 'connections per request' | 'ports' | 'segments';

export interface Claim {
  readonly name: ClaimName;
  readonly value: number;
  readonly unit: ClaimUnit;
  /** 'exact', or 'at-least' where the evidence is a lower bound (a census peak standing in for a count). */
  readonly bound: 'exact' | 'at-least';
  readonly derive: Derivation;
  readonly plus: readonly EvidenceRef[];
  readonly minus?: readonly EvidenceRef[];
  readonly cap?: readonly EvidenceRef[];
  /** The peers this claim speaks of, where narrower than its finding's (one group of a host that has several). */
  readonly peers?: readonly string[];
}

export type ClaimName =
  /** TIME_WAIT on the host at its peak: census capped by sockstat tw. */
  | 'timeWaitPeak'
  /** Connections of the group that this end closed first. */
  | 'firstCloses'
  /** Connections of the group closed by both ends at once: first closes on both ends minus connections made. */
  | 'simultaneousCloses'
  /** Connections made in the group. */
  | 'connections'
  /** TIME_WAIT with the peers of the group, at the census peak. */
  | 'peerTimeWait'
  /** Upstream connections a proxy opened, and the requests they served. */
  | 'upstreamConnections'
  | 'requests'
  | 'connectionsPerRequest'
  /** Connections of a capture whose first FIN this end sent (alone or at once with its peer): its TIME_WAIT entries. */
  | 'packetFirstFins'
  /** Data segments written on a connection after the peer's FIN, answered by the peer's RST: the keep-alive race. */
  | 'lateWritesReset';

export interface Finding {
  /** The rule that made it (its file's name). */
  readonly rule: string;
  /** The host it speaks of. */
  readonly host: string;
  /** The hosts at the other end of the connections it speaks of; empty for a statement about the host alone. */
  readonly peers: readonly string[];
  readonly claims: readonly Claim[];
  /** The sentence, written by the words module from the claims. */
  readonly text: string;
}

/** What report.json keeps of a finding beside its text: findings[finding] is the text. */
export interface FindingClaims {
  readonly finding: number;
  readonly rule: string;
  readonly host: string;
  readonly peers: readonly string[];
  readonly claims: readonly Claim[];
}

export const counter = (host: string, name: string): EvidenceRef => ({ from: 'counter', host, counter: name });

/** Connections a host's kernel saw it close first (evidence/time-wait.ts firstCloses), as counter refs. */
export const firstCloseCounters = (host: string): EvidenceRef[] => ['TcpExt.TW', 'TcpExt.TWKilled', 'TcpExt.TCPTimeWaitOverflow'].map((c) => counter(host, c));
