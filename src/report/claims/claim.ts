// Findings as typed claims: each number a finding states, with the evidence it was drawn from, so that the truth
// check can re-derive it from the report alone and the words can be written from it. A finding speaks for one
// host and the peers of one group (the hosts at the other end of its connections), never for the whole host.
import type { TcpStateName } from '../../sampler/tcp-states.ts';

/** Fields of an actor's connection model (core/connection-model.ts) that a claim may cite as configuration. */
export type ModelField = 'backlog' | 'acceptAfterMs' | 'ratePerSec' | 'count' | 'nofile' | 'pool';

/** Where a number comes from in report.json (or, for configuration, in the plan it keeps). */
export type EvidenceRef =
  /** hosts.<host>.counters.delta[<counter>]: host-wide, so it speaks for a group only when the host has no other. */
  | { readonly from: 'counter'; readonly host: string; readonly counter: string }
  /** hosts.<host>.peak.peers.<role>[<peer>][<state>]: the census peak with one peer (ip:port or a source address). */
  | {
      readonly from: 'peer-peak';
      readonly host: string;
      readonly role: 'listen' | 'ephemeral';
      readonly peer: string;
      readonly state: TcpStateName;
    }
  /** hosts.<host>.peak.total[<state>]: the census peak over the whole host. */
  | { readonly from: 'host-peak'; readonly host: string; readonly state: TcpStateName }
  /** hosts.<host>.peak.sockstatTw: the kernel's own TIME_WAIT count at its highest sample. */
  | { readonly from: 'sockstat-tw'; readonly host: string }
  /** actors.<actor>.<stat>, or a number nested in it under `key` (errors.EADDRINUSE.count, restart.tries). */
  | { readonly from: 'actor-stat'; readonly actor: string; readonly stat: string; readonly key?: readonly string[] }
  /** hosts.<host>.conntrack.entriesPeak: a forwarding host's conntrack entries at their highest sample. */
  | { readonly from: 'conntrack-peak'; readonly host: string }
  /** A bound that comes from configuration, not measurement (a port budget): stated, and checked against the plan's sysctls. */
  | { readonly from: 'port-budget'; readonly host: string; readonly ports: number }
  /** hosts.<host>.final[<state>]: the census at the last sample. */
  | { readonly from: 'host-final'; readonly host: string; readonly state: TcpStateName }
  /** hosts.<host>.peak.split[<state>][<role>]: the role's part of the total peak, in the sample that reached it. */
  | {
      readonly from: 'split-peak';
      readonly host: string;
      readonly role: 'listen' | 'ephemeral';
      readonly state: TcpStateName;
    }
  /** hosts.<host>.peak.atMs[<state>]: when the census peak of the state was reached. */
  | { readonly from: 'peak-time'; readonly host: string; readonly state: TcpStateName }
  /** The time of the host's last sample. */
  | { readonly from: 'last-sample'; readonly host: string }
  /** The host's census count of a state at the last sample at or before the load's start or end. */
  | {
      readonly from: 'series-at';
      readonly host: string;
      readonly state: TcpStateName;
      readonly at: 'load-start' | 'load-end';
    }
  /** When the load ran: the first load actor's start, the last one's end, or the time between (actor stats). */
  | { readonly from: 'load-window'; readonly edge: 'start' | 'end' | 'length' }
  /** hosts.<host>.sysctls[<name>], read back from the kernel, as a number. */
  | { readonly from: 'sysctl'; readonly host: string; readonly name: string }
  /** predictions.<actor>.<kind>.<field>: a number of a prediction (report/predictions.ts), which is checked on its own. */
  | { readonly from: 'prediction'; readonly actor: string; readonly kind: string; readonly field: string }
  /** A field of the actor's connection model in the report's plan (its listen() backlog, its pool, its rate). */
  | { readonly from: 'model'; readonly actor: string; readonly field: ModelField }
  /** The plan's limits of a host (limits.nofile). */
  | { readonly from: 'host-limit'; readonly host: string; readonly limit: 'nofile' }
  /** captures[host].evidence: frames of a host's packet capture, counted per peer address (byPeer) or as late writes. */
  | { readonly from: 'capture-frames'; readonly host: string; readonly count: CaptureCount; readonly peer?: string };

/**
 * What a capture counts: per peer, connections whose first FIN this host's end sent ('localFirst'), the peer's,
 * or both at once; and data written after the peer's FIN ('lateWrites'), answered by RST ('lateWritesReset').
 */
export type CaptureCount = 'connections' | 'localFirst' | 'peerFirst' | 'both' | 'lateWrites' | 'lateWritesReset';

/**
 * How a claim's value follows from its evidence: 'sum' adds the `plus` refs and takes away the `minus` ones;
 * 'ratio' is the sum of `plus` over the sum of `minus` (connections per request); 'per' is the sum of `plus` less
 * the `minus` ones, multiplied by each of `times` and by `scale`, over the sum of `over` (a count per second of a
 * window in ms: scale 1000). Each is then capped by the smallest of `cap` (a census peak by the kernel's own count
 * and by a port budget).
 */
export type Derivation = 'sum' | 'ratio' | 'per';

export const CLAIM_UNITS = [
  'connections',
  'sockets',
  'requests',
  'connections per request',
  'ports',
  'count',
  'errors',
  'tries',
  'ms',
  's',
  'per second',
  'share',
  'files',
  'responses',
  'segments',
  'lines',
  'log lines',
  'entries',
  'SYNs',
] as const;
export type ClaimUnit = (typeof CLAIM_UNITS)[number];

export const CLAIM_NAMES = [
  /** TIME_WAIT on the host at its peak: census capped by sockstat tw. */
  'timeWaitPeak',
  /** The parts of timeWaitPeak on the host's listening ports and on its own ports: they add up to it. */
  'timeWaitOnListenPorts',
  'timeWaitOnOwnPorts',
  /** Connections of the group that this end (`end`) closed first. */
  'firstCloses',
  /** The share of the group's first closes that `end` made (1: it closed first on all). */
  'firstCloseShare',
  /** Connections of the group closed by both ends at once: first closes on both ends minus connections made. */
  'simultaneousCloses',
  /** Connections made in the group (or by an actor). */
  'connections',
  /** connect() calls an actor made, failures included. */
  'attempts',
  /** Answers an actor got (its `ok`), and responses it counted. */
  'answers',
  'responses',
  /** TIME_WAIT with the peers of the group, at the census peak. */
  'peerTimeWait',
  /** Upstream connections a proxy opened, and the requests they served. */
  'upstreamConnections',
  'requests',
  'connectionsPerRequest',
  /** How many times more connections one side opened than the other (per request side over keep-alive side). */
  'connectionsRatio',
  /** A kernel counter's increase over the measurement (`of`: its name), host-wide. */
  'counter',
  /** The kernel's own TIME_WAIT count at its highest sample. */
  'sockstatTwPeak',
  /** The host's census peak of a state (`of`), when it was reached, and the count at the last sample. */
  'statePeak',
  'statePeakAtMs',
  'stateFinal',
  /** The census peak of a state (`of`) with the peers of the group. */
  'peerStatePeak',
  /** How much a state's count (`of`) grew while the load ran, and per second. */
  'stateGrowth',
  'stateGrowthRate',
  /** Errors an actor counted with one errno code (`of`), by syscall (`of`: "CODE call"), and when the first came. */
  'errors',
  'syscallErrors',
  'firstErrorAtMs',
  /** Scheduled starts the open model could not begin on time. */
  'missedStarts',
  /** A listener's restart: its tries, and the sockets on its port as the restart found them (`of`: state). */
  'restartTries',
  'socketsAtRestart',
  /** Sockets an actor left open on purpose after the peer's FIN (closeStyle never): as the server, as the client. */
  'leakedSockets',
  'heldSockets',
  /** CLOSE_WAIT sockets a user process held, counted among its open files. */
  'processCloseWait',
  /** Ports a host's connections toward one destination may use, and the share of them a state held. */
  'portBudget',
  'portShare',
  /** Ports of the range with its low end's parity: the half connect() tries first. */
  'sameParityPorts',
  /** Connections per port used (connections over the ports they had). */
  'usesPerPort',
  /** A sysctl read back from the host (`of`: its name), as a number. */
  'sysctl',
  /** A number of the plan's connection model (`of`: the field) or of a host's limits. */
  'planned',
  /** RLIMIT_NOFILE as the process read it back (`of`: soft or hard). */
  'openFilesLimit',
  /** Connections an actor held open at once. */
  'connectionsAtOnce',
  /** Connections waiting in a listener's accept queue when it began to accept. */
  'acceptQueueAtResume',
  /** A latency percentile of an actor (`of`: p50, p99, max), in ms. */
  'latency',
  /** A number of a prediction (`of`: kind.field). */
  'prediction',
  /** Responses with one HTTP status (`of`) that clients got. */
  'statusCount',
  /** A proxy's error log: its error lines, lines of one kind (`of`), lines of one cause (`of`). */
  'logLines',
  'logKind',
  'logCause',
  /** TIME_WAIT entries that left before their timer (entered less still there at the end), and those taken over by a new SYN. */
  'timeWaitLeftEarly',
  'timeWaitTakenOver',
  /** Connections an actor closed with RST (SO_LINGER 0), or with the request body unread; of the first, those it gave up. */
  'resetsSent',
  'closedUnread',
  'resetOnGiveUp',
  /** Connections that node saw end with a plain EOF although the peer reset them. */
  'peerClosed',
  /** How long the host was sampled after the load ended. */
  'sampledAfterLoadMs',
  /** The load's length. */
  'loadMs',
  /** Orphaned FIN_WAIT_2 entries per second of load, and how many should be there at once at that rate (Little's law). */
  'orphanRate',
  'orphansExpected',
  /** A gateway's conntrack: entries at their peak, insertions lost to a clash, entries refused or evicted when full. */
  'conntrackEntriesPeak',
  'conntrackInsertFailed',
  'conntrackDrops',
  /** Connections a server held ESTABLISHED from a gateway's masquerade address: translated ports in use toward it. */
  'translatedPortsInUse',
  /** SYNs the hosts behind a gateway sent again (TcpExt.TCPSynRetrans, host-wide). */
  'synRetransmits',
  /** Kept-alive connections a server closed after its idle timeout. */
  'idleCloses',
  /** RST segments a host sent (Tcp.OutRsts), or connections reset while established (Tcp.EstabResets). */
  'resets',
  /** Responses with a gateway error status (502, 503, 504) that clients got. */
  'gatewayErrors',
  /** Requests a server-side process (nginx, HAProxy, the built-in proxy) counted as lost in its own log. */
  'serverLosses',
  /** Errors the clients of that process counted, by code. */
  'clientErrors',
  /** Connections of a capture whose first FIN this end sent (alone or at once with its peer): its TIME_WAIT entries. */
  'packetFirstFins',
  /** Data segments written on a connection after the peer's FIN, answered by the peer's RST: the keep-alive race. */
  'lateWritesReset',
] as const;

export type ClaimName = (typeof CLAIM_NAMES)[number];

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
  /** 'per' only: the denominator, the multipliers, and the scale. */
  readonly over?: readonly EvidenceRef[];
  readonly times?: readonly EvidenceRef[];
  readonly scale?: number;
  /** The peers this claim speaks of, where narrower than its finding's (one group of a host that has several); empty: the host as a whole. */
  readonly peers?: readonly string[];
  /** What it counts, where its name is generic: an errno code, a TCP state, a counter, a sysctl. */
  readonly of?: string;
  /** The end of the group's connections the claim's host is: the one that connected, or the one that accepted. */
  readonly end?: 'client' | 'server';
}

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
export const FIRST_CLOSE_COUNTERS = ['TcpExt.TW', 'TcpExt.TWKilled', 'TcpExt.TCPTimeWaitOverflow'] as const;
export const firstCloseCounters = (host: string): EvidenceRef[] => FIRST_CLOSE_COUNTERS.map((c) => counter(host, c));

export const actorStat = (actor: string, stat: string, ...key: string[]): EvidenceRef => ({
  from: 'actor-stat',
  actor,
  stat,
  ...(key.length ? { key } : {}),
});
export const hostPeak = (host: string, state: TcpStateName): EvidenceRef => ({ from: 'host-peak', host, state });
export const hostFinal = (host: string, state: TcpStateName): EvidenceRef => ({ from: 'host-final', host, state });
export const peerPeak = (
  host: string,
  role: 'listen' | 'ephemeral',
  peer: string,
  state: TcpStateName,
): EvidenceRef => ({ from: 'peer-peak', host, role, peer, state });
export const sockstatTw = (host: string): EvidenceRef => ({ from: 'sockstat-tw', host });
export const sysctl = (host: string, name: string): EvidenceRef => ({ from: 'sysctl', host, name });
export const portBudgetRef = (host: string, ports: number): EvidenceRef => ({ from: 'port-budget', host, ports });
