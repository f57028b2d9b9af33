// The Plan: a scenario with every default resolved, frozen and serialisable. The runtime only reads it.
import type { ConnectionModel } from './connection-model.ts';

/** Servers start first and run until stopped; load actors start once every server listens and end by themselves. */
export type ActorRole = 'server' | 'load';

/** The address families of a lab: IPv4 (198.18.0.0/15), IPv6 (2001:2::/48), or both on every interface. */
export type LabFamily = 'ipv4' | 'ipv6' | 'dual';

export interface HostPlan {
  readonly name: string;
  /** Address on the lab bridge that actors connect to: in 198.18.0.0/15, or in 2001:2::/48 in an IPv6 lab. */
  readonly address: string;
  readonly prefixLength: number;
  /** Dual-stack labs: the host's IPv6 address (2001:2::/48, a /64) beside its IPv4 `address`. */
  readonly address6?: string;
  /** Full sysctl name -> value as the kernel prints it (whitespace collapsed). Written only inside the host's namespace. */
  readonly sysctls: Readonly<Record<string, string>>;
  /** Limits the agent (and every actor of the host) runs under; absent: inherited from the controller. */
  readonly limits?: { readonly nofile?: number };
  /** Multi-network labs only: one interface per network, the first one's address is `address`. */
  readonly interfaces?: readonly InterfacePlan[];
  /** Multi-network labs only: routes to the networks this host is not on, through a gateway host. */
  readonly routes?: readonly { readonly to: string; readonly via: string }[];
  /** Forwards between its networks; `masquerade` names the interface whose outgoing packets get its address. */
  readonly gateway?: { readonly masquerade?: MasqueradePlan };
}

/** Source NAT out of one interface: its address, and where given the range of translated ports and fully-random. */
export interface MasqueradePlan {
  readonly network: string;
  readonly dev: string;
  readonly address: string;
  /** Dual-stack labs: the interface's IPv6 address, which IPv6 connections leave with. */
  readonly address6?: string;
  readonly ports?: { readonly lo: number; readonly hi: number };
  readonly randomFully?: boolean;
}

export interface InterfacePlan {
  readonly network: string;
  /** eth0, eth1, ... in the order of the host's networks. */
  readonly dev: string;
  readonly address: string;
  readonly prefixLength: number;
  /** Dual-stack labs: the interface's IPv6 address (a /64) beside its IPv4 `address`. */
  readonly address6?: string;
}

export interface NetworkPlan {
  readonly name: string;
  /** A /24 of 198.18.0.0/15; in an IPv6 lab, a /64 of 2001:2::/48. */
  readonly subnet: string;
  /** Dual-stack labs: the network's IPv6 /64 beside its IPv4 `subnet`. */
  readonly subnet6?: string;
}

export interface ActorPlan {
  readonly name: string;
  readonly kind: string;
  readonly role: ActorRole;
  readonly host: string;
  /** The actor kind's options with every default resolved. */
  readonly options: Readonly<Record<string, unknown>>;
  /** Servers on a host with an IPv6 address: the wildcard they listen on ('::', which takes IPv4 too); absent: 0.0.0.0. */
  readonly listenAddress?: '::';
  /** Where a client connects: resolved from its `target` actor. */
  readonly connect?: { readonly actor: string; readonly host: string; readonly address: string; readonly port: number };
  /** Its connections as its kind expects them (core/connection-model.ts); absent in plans made before it was recorded. */
  readonly connections?: ConnectionModel;
  /** Files it runs with (a proxy's filled-in nginx.conf), by name: its agent writes them where it runs, the run directory keeps a copy. */
  readonly files?: Readonly<Record<string, string>>;
}

/** A sysctl profile as applied: per host, each sysctl it set, beside the scenario's own value (null: unset). */
export interface PlanProfile {
  readonly name: string;
  readonly description: string;
  /** "built-in", or the profile file's path. */
  readonly source: string;
  readonly changes: Readonly<
    Record<string, Readonly<Record<string, { readonly scenario: string | null; readonly profile: string }>>>
  >;
  /** What the profile risks, from the kernel's behaviour. */
  readonly cost?: string;
}

/** Replicas of a scaled host (plan/replicas.ts): its replicas' host names, replica 1 first, and each of its actors' copies. */
export interface ReplicaGroup {
  readonly hosts: readonly string[];
  readonly actors: Readonly<Record<string, readonly string[]>>;
  /** The scenario's own `replicas` for the host, where --scale asked for another count and won. */
  readonly scenarioReplicas?: number;
}

export interface Plan {
  readonly schemaVersion: 1;
  readonly scenario: { readonly name: string; readonly description: string; readonly file: string };
  readonly params: Readonly<Record<string, unknown>>;
  readonly overrides: Readonly<Record<string, string>>;
  /** The --sysctl flags the plan took, as given (host:name=value): what of the hosts' sysctls came from the command line. */
  readonly sysctlFlags?: readonly string[];
  /** The lab driver that runs it (lab/registry.ts); --driver chooses, netns by default. */
  readonly driver: string;
  readonly sampler: { readonly intervalMs: number };
  readonly tailMs: number;
  readonly hosts: Readonly<Record<string, HostPlan>>;
  /** IPv6-only or dual-stack labs; absent: IPv4 only. */
  readonly family?: Exclude<LabFamily, 'ipv4'>;
  /** Present when the scenario declares networks; otherwise every host is on one 198.18.0.0/24. */
  readonly networks?: Readonly<Record<string, NetworkPlan>>;
  readonly actors: Readonly<Record<string, ActorPlan>>;
  readonly thresholds: readonly string[];
  /** Tolerances of a comparison with a baseline: report path pattern -> "+20%" (core/tolerance.ts). */
  readonly regressions: Readonly<Record<string, string>>;
  /** The sysctl profile applied over the scenario's sysctls (--profile), when one was. */
  readonly profile?: PlanProfile;
  /** Scaled hosts (--scale, a host's replicas), by the host's name as the scenario gives it. */
  readonly replicas?: Readonly<Record<string, ReplicaGroup>>;
  /** The longest the load can last: used to bound the run and every agent. */
  readonly maxLoadMs: number;
  /** System tools (core/system-tools.ts) the scenario runs beyond its lab driver's own; absent in reports before 0.2. */
  readonly tools?: readonly string[];
  /** Packet captures asked for (--capture): tcpdump inside each host named. */
  readonly capture?: CapturePlan;
}

/** tcpdump inside each of `hosts`, from before the load until after it, into <host>.pcap in the run's directory. */
export interface CapturePlan {
  readonly hosts: readonly string[];
  /** Bytes kept of each packet (tcpdump -s): the headers and an HTTP request line by default, whole packets on request. */
  readonly snaplen: number;
  /** The most bytes one host's pcap may hold: its capture stops there, and the report says it was cut. */
  readonly maxBytes: number;
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}
