// What a scenario file exports: `export default defineScenario({...})`. These are the shapes as the loader
// meets them, actor options unchecked (a scenario may be plain JavaScript); the typed form a scenario file is
// written against, each actor's options from its kind, is actors/typed-scenario.ts, over these.
import type { Fields, ValuesOf } from './fields.ts';
import type { DurationInput } from './units.ts';

export { f } from './fields.ts';

export interface HostSpec {
  /** Full sysctl names, e.g. 'net.ipv4.tcp_tw_reuse'. Only per-network-namespace sysctls are allowed. */
  sysctls?: Record<string, string | number>;
  /** Defaults to the next free address of 198.18.0.0/24. */
  address?: string;
  /** Resource limits of the host's agent process, and so of every actor on the host. */
  limits?: HostLimitsSpec;
  /** Networks the host is attached to (names of ScenarioSpec.networks), one interface each: eth0, eth1, ... */
  networks?: string[];
  /** A gateway host sharing a network with this one: routes to the lab networks this host is not on go through it. */
  via?: string;
  /** Forward packets between this host's networks (net.ipv4.ip_forward=1 in its namespace). */
  gateway?: GatewaySpec;
  /** Run this host N times (1-16), each replica with its own address and port budget: a client host only (--scale overrides). */
  replicas?: number;
}

export interface GatewaySpec {
  /** Source-NAT (nftables masquerade, inside this host's namespace) of what leaves into this network. */
  masquerade?: string;
  /** With masquerade: translate source ports into this range only ("50000-50099"), the NAT's own port budget per destination. */
  ports?: string;
  /** With masquerade: pick translated ports at random for every connection (nftables fully-random, iptables --random-fully). */
  randomFully?: boolean;
}

export interface NetworkSpec {
  /** A /24 inside 198.18.0.0/15; defaults to the next one: 198.18.0.0/24, 198.18.1.0/24, ... */
  subnet?: string;
}

export interface HostLimitsSpec {
  /** RLIMIT_NOFILE, soft and hard: past it socket() and accept() fail with EMFILE. */
  nofile?: number;
}

/** An actor as the loader meets it: its options are checked against its kind's fields when the plan resolves. */
export interface UncheckedActorSpec {
  kind: string;
  host: string;
  [option: string]: unknown;
}

/** A is the actors' type: unchecked here, a union of every kind's options for scenario files (ActorSpec). */
export interface ScenarioSpec<A = UncheckedActorSpec> {
  /** Bridged networks; without it, one network (198.18.0.0/24) joins every host. */
  networks?: Record<string, NetworkSpec>;
  hosts: Record<string, HostSpec>;
  /**
   * The lab's address family: 'ipv4' (198.18.0.0/15, the default), 'ipv6' (2001:2::/48 only) or 'dual' (both on
   * every interface; actors connect over IPv4). A host's IPv6 address mirrors its IPv4 one: 198.18.k.n is 2001:2:0:k::n.
   */
  family?: 'ipv4' | 'ipv6' | 'dual';
  actors: Record<string, A>;
  /** Expressions over report.json paths: "<path> <op> <number>", e.g. "actors.flood.errors.EADDRNOTAVAIL.count > 0". */
  thresholds?: string[];
  /**
   * Tolerances when a run is compared with a baseline (`--baseline`, `waitlab compare`), over the defaults:
   * report path pattern (`*` for one key) -> "+20%" (a rise is worse), "-10%" (a fall is worse), "±5%", "0".
   */
  regressions?: Record<string, string>;
  sampleInterval?: DurationInput;
  /** Sampling after the load ends. */
  tail?: DurationInput;
}

export interface ScenarioDefinition<P extends Fields = Fields, A = UncheckedActorSpec> {
  readonly name: string;
  /** One line, shown by `waitlab list`. */
  readonly description: string;
  /** Parameters a user can change with --set key=value. */
  readonly params: P;
  readonly build: (params: ValuesOf<P>) => ScenarioSpec<A>;
}

/** Unchecked: for tests that hand the loader what a scenario should not hold. Scenario files use the typed one. */
export function defineScenario<P extends Fields>(definition: ScenarioDefinition<P>): ScenarioDefinition<P> {
  return definition;
}
