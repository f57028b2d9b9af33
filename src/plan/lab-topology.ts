// Multi-network labs: bridged /24s of 198.18.0.0/15, hosts with one interface per network, gateways that
// forward (and may masquerade), and routes through them. Pure validation and address assignment: the lab
// driver only carries out what is resolved here.
import { addressInSubnet, nthLabSubnet, parseLabSubnet } from './lab-addresses.ts';
import type { HostPlan, InterfacePlan, MasqueradePlan, NetworkPlan } from '../core/plan.ts';
import type { GatewaySpec, ScenarioSpec } from '../core/scenario.ts';
import { parsePortRange } from '../core/units.ts';
import { ownValue } from '../core/own-keys.ts';

const NETWORK_NAME = /^[a-z][a-z0-9]{0,7}$/;
/** The first 253 addresses of a /24 go to hosts (.1 to .253). */
const HOSTS_PER_NETWORK = 253;

export type HostNetworking = Pick<HostPlan, 'address' | 'prefixLength' | 'interfaces' | 'routes' | 'gateway'>;

export interface Topology {
  networks: Record<string, NetworkPlan>;
  hosts: Record<string, HostNetworking>;
  /** Sysctls the topology needs (ip_forward on gateways), written and read back like any other. */
  sysctls: Record<string, Record<string, string>>;
}

/** Whether a scenario uses networks at all: without them, the one-bridge lab of old applies unchanged. */
export function usesNetworks(spec: ScenarioSpec): boolean {
  return (
    spec.networks !== undefined ||
    Object.values(spec.hosts ?? {}).some(
      (h) => h.networks !== undefined || h.via !== undefined || h.gateway !== undefined,
    )
  );
}

export function resolveTopology(spec: ScenarioSpec, problems: string[]): Topology {
  const networks: Record<string, NetworkPlan> = {};
  const hostSpecs = Object.entries(spec.hosts ?? {});
  if (!spec.networks || Object.keys(spec.networks).length === 0) {
    problems.push(
      'networks: hosts name networks, a gateway or a route via a gateway, so the scenario must declare its networks (e.g. networks: { lan: {}, wan: {} })',
    );
    return { networks, hosts: {}, sysctls: {} };
  }
  let k = 0;
  for (const [name, net] of Object.entries(spec.networks)) {
    const where = `networks.${name}`;
    if (!NETWORK_NAME.test(name))
      problems.push(`${where}: a network name is 1-8 lower-case letters or digits, starting with a letter`);
    for (const key of Object.keys(net ?? {}))
      if (key !== 'subnet') problems.push(`${where}: unknown key "${key}" (known: subnet)`);
    const subnet = net?.subnet ?? nthLabSubnet(k);
    if (!parseLabSubnet(subnet))
      problems.push(`${where}.subnet: ${subnet} is not an aligned /24 inside 198.18.0.0/15 (e.g. 198.18.1.0/24)`);
    networks[name] = { name, subnet };
    k++;
  }
  const subnets = Object.values(networks).map((n) => n.subnet);
  if (new Set(subnets).size !== subnets.length) problems.push('networks: two networks have the same subnet');

  const first = Object.keys(networks)[0]!;
  const next: Record<string, number> = Object.fromEntries(Object.keys(networks).map((n) => [n, 0]));
  const taken = new Set<string>();
  const hosts: Record<string, HostNetworking> = {};
  const sysctls: Record<string, Record<string, string>> = {};
  /** Hosts whose networks already failed: their routes are not judged again, so one mistake is one problem. */
  const incomplete = new Set<string>();
  for (const [name, host] of hostSpecs) {
    const where = `hosts.${name}`;
    const names = host.networks ?? [first];
    if (!Array.isArray(names) || names.length === 0) {
      problems.push(
        `${where}.networks: expected a non-empty list of network names (${Object.keys(networks).join(', ')})`,
      );
      continue;
    }
    if (new Set(names).size !== names.length) problems.push(`${where}.networks: a network is named twice`);
    const interfaces: InterfacePlan[] = [];
    names.forEach((network, i) => {
      const net = ownValue(networks, network);
      if (!net) {
        problems.push(`${where}.networks: no network "${network}" (networks: ${Object.keys(networks).join(', ')})`);
        return;
      }
      const base = parseLabSubnet(net.subnet)?.base;
      let address: string | undefined = i === 0 ? host.address : undefined;
      if (address !== undefined && !addressInSubnet(address, net.subnet)) {
        problems.push(`${where}.address: ${address} is not in its first network ${network} (${net.subnet})`);
      }
      if (address === undefined && base) {
        // The next address of that network not given explicitly to another host.
        do address = `${base}.${++next[network]!}`;
        while (taken.has(address) && next[network]! <= HOSTS_PER_NETWORK);
        if (next[network]! > HOSTS_PER_NETWORK)
          problems.push(`networks.${network}: more than ${HOSTS_PER_NETWORK} hosts`);
      }
      if (address === undefined) return;
      if (taken.has(address)) problems.push(`${where}: address ${address} is taken by another host`);
      taken.add(address);
      interfaces.push({ network, dev: `eth${i}`, address, prefixLength: 24 });
    });
    if (interfaces.length !== names.length) incomplete.add(name);
    let gateway: HostNetworking['gateway'];
    if (host.gateway !== undefined) {
      const g = host.gateway as Record<string, unknown>;
      for (const key of Object.keys(g ?? {}))
        if (!GATEWAY_KEYS.includes(key))
          problems.push(`${where}.gateway: unknown key "${key}" (known: ${GATEWAY_KEYS.join(', ')})`);
      if (names.length < 2) problems.push(`${where}.gateway: a gateway needs at least two networks to forward between`);
      const out = host.gateway.masquerade;
      const iface = out === undefined ? undefined : interfaces.find((x) => x.network === out);
      if (out !== undefined && !iface)
        problems.push(`${where}.gateway.masquerade: the host is not on network "${out}"`);
      const nat = natOptions(host.gateway, `${where}.gateway`, problems);
      gateway = iface ? { masquerade: { network: iface.network, dev: iface.dev, address: iface.address, ...nat } } : {};
      const forward = host.sysctls?.['net.ipv4.ip_forward'];
      if (forward !== undefined && String(forward) !== '1')
        problems.push(`${where}.sysctls: a gateway forwards, so net.ipv4.ip_forward cannot be ${forward}`);
      sysctls[name] = { 'net.ipv4.ip_forward': '1' };
    }
    hosts[name] = {
      address: interfaces[0]?.address ?? '',
      prefixLength: 24,
      interfaces,
      ...(gateway ? { gateway } : {}),
    };
  }

  // Routes go through a gateway sharing a network with the host, to every network the host is not on.
  for (const [name, host] of hostSpecs) {
    if (host.via === undefined || !hosts[name]) continue;
    const where = `hosts.${name}.via`;
    const gw = ownValue(hosts, host.via);
    if (!gw) {
      problems.push(`${where}: no host "${host.via}"`);
      continue;
    }
    if (!gw.gateway) problems.push(`${where}: host "${host.via}" is not a gateway (give it gateway: {})`);
    if (incomplete.has(name) || incomplete.has(host.via)) continue;
    const mine = hosts[name]!.interfaces!;
    const shared = gw.interfaces!.find((g) => mine.some((m) => m.network === g.network));
    if (!shared) {
      problems.push(`${where}: host "${host.via}" shares no network with host ${name}`);
      continue;
    }
    const routes = Object.values(networks)
      .filter((n) => !mine.some((m) => m.network === n.name))
      .map((n) => ({ to: n.subnet, via: shared.address }));
    hosts[name] = { ...hosts[name]!, routes };
  }
  return { networks, hosts, sysctls };
}

const GATEWAY_KEYS = ['masquerade', 'ports', 'randomFully'];

/** A masquerade's translated port range and fully-random flag, parsed into their types (they reach nft's rules). */
function natOptions(g: GatewaySpec, where: string, problems: string[]): Pick<MasqueradePlan, 'ports' | 'randomFully'> {
  const out: { ports?: MasqueradePlan['ports']; randomFully?: boolean } = {};
  if ((g.ports !== undefined || g.randomFully !== undefined) && g.masquerade === undefined)
    problems.push(`${where}: ports and randomFully shape a masquerade: give masquerade too`);
  if (g.ports !== undefined) {
    try {
      const { lo, hi } = parsePortRange(g.ports);
      // Below 1024 the kernel keeps privileged ports to privileged sources; a lab NAT has no reason to hand them out.
      if (lo < 1024) problems.push(`${where}.ports: ${lo}-${hi} starts below 1024; use ports from 1024 up`);
      else out.ports = { lo, hi };
    } catch (err) {
      problems.push(`${where}.ports: ${(err as Error).message}`);
    }
  }
  if (g.randomFully !== undefined) {
    if (typeof g.randomFully !== 'boolean')
      problems.push(`${where}.randomFully: expected true or false, got ${JSON.stringify(g.randomFully)}`);
    else if (g.randomFully) out.randomFully = true;
  }
  return out;
}
