// A scenario's hosts as the plan holds them: names, addresses (declared networks or the one default bridge),
// sysctls as written (their values are checked once a profile has been applied) and limits.
import { DEFAULTS } from '../core/defaults.ts';
import { HOST_NAME } from '../core/host-names.ts';
import { isInheritedName } from '../core/own-keys.ts';
import type { HostPlan, LabFamily } from '../core/plan.ts';
import type { ScenarioSpec } from '../core/scenario.ts';
import { resolveHostLimits } from './host-limits.ts';
import { addressInLabNetwork, addressInSubnet, nthLabAddress } from './lab-addresses.ts';
import { hostInFamily, IPV6_FORWARDING, networkInFamily, resolveFamily } from './lab-family.ts';
import { resolveTopology, usesNetworks, type Topology } from './lab-topology.ts';
import { normaliseSysctlValue } from './sysctl-check.ts';

/** The one network of a lab that declares none. */
const DEFAULT_SUBNET = '198.18.0.0/24';
const HOST_KEYS: readonly string[] = ['address', 'sysctls', 'limits', 'networks', 'via', 'gateway', 'replicas'];
const SYSCTL_NAME = /^net\.[a-z0-9_]+(\.[a-z0-9_-]+)+$/;

export interface ResolvedHosts {
  hosts: Record<string, HostPlan>;
  /** Every sysctl name a host sets: the kernel is asked whether a namespace has them (probeSysctls). */
  sysctlNames: Set<string>;
  /** Its networks in the lab's family. */
  topology: Topology | undefined;
  family: LabFamily;
  problems: string[];
}

/** `replicaNames`: the hosts --scale or `replicas` made, named by waitlab outside the names a scenario may choose. */
export function resolveHosts(spec: ScenarioSpec, replicaNames: ReadonlySet<string>): ResolvedHosts {
  const problems: string[] = [];
  const hosts: Record<string, HostPlan> = {};
  const sysctlNames = new Set<string>();
  let nextAddress = 0;
  const topology = usesNetworks(spec) ? resolveTopology(spec, problems) : undefined;
  for (const [name, host] of Object.entries(spec.hosts ?? {})) {
    const where = `hosts.${name}`;
    for (const key of Object.keys(host)) {
      if (!HOST_KEYS.includes(key)) problems.push(`${where}: unknown key "${key}" (known: ${HOST_KEYS.join(', ')})`);
    }
    if ((!HOST_NAME.test(name) && !replicaNames.has(name)) || isInheritedName(name))
      problems.push(`${where}: a host name is 1-12 lower-case letters or digits, starting with a letter`);
    const sysctls: Record<string, string> = {};
    for (const [key, value] of Object.entries(host.sysctls ?? {})) {
      if (!SYSCTL_NAME.test(key)) {
        problems.push(`${where}.sysctls: "${key}" is not a full net.* sysctl name (e.g. net.ipv4.tcp_tw_reuse)`);
        continue;
      }
      if (typeof value !== 'string' && typeof value !== 'number') {
        problems.push(`${where}.sysctls.${key}: expected a string or number`);
        continue;
      }
      sysctls[key] = normaliseSysctlValue(value);
      sysctlNames.add(key);
    }
    const limits = resolveHostLimits(host.limits, `${where}.limits`, problems);
    if (topology) {
      for (const [key, value] of Object.entries(topology.sysctls[name] ?? {})) {
        sysctls[key] = value;
        sysctlNames.add(key);
      }
      const networking = topology.hosts[name] ?? { address: '', prefixLength: DEFAULTS.labSubnetPrefix };
      hosts[name] = { name, ...networking, sysctls, ...(limits ? { limits } : {}) };
      continue;
    }
    let address = host.address;
    if (address === undefined) address = nthLabAddress(nextAddress++);
    else if (!addressInLabNetwork(address))
      problems.push(`${where}.address: ${address} is outside ${DEFAULTS.labNetwork}, the only range the lab uses`);
    // Without declared networks every host is on one bridge, 198.18.0.0/24: an address elsewhere in the /15 would
    // be unreachable (ENETUNREACH from every connect) rather than wrong.
    else if (!addressInSubnet(address, DEFAULT_SUBNET) || address.endsWith('.0') || address.endsWith('.255')) {
      problems.push(
        `${where}.address: ${address} is not a host address of the lab's network ${DEFAULT_SUBNET} (declare networks to use other parts of ${DEFAULTS.labNetwork})`,
      );
    }
    hosts[name] = { name, address, prefixLength: DEFAULTS.labSubnetPrefix, sysctls, ...(limits ? { limits } : {}) };
  }
  if (Object.keys(hosts).length === 0) problems.push('hosts: at least one host is needed');
  const addresses = Object.values(hosts).map((h) => h.address);
  if (!topology && new Set(addresses).size !== addresses.length)
    problems.push('hosts: two hosts have the same address');
  const family = resolveFamily(spec.family, problems);
  // Addresses are assigned and checked in IPv4 terms, then mapped: an address that failed is left for its problem.
  if (problems.length === 0) for (const [name, host] of Object.entries(hosts)) hosts[name] = hostInFamily(host, family);
  if (family !== 'ipv4' && Object.values(hosts).some((h) => h.gateway)) sysctlNames.add(IPV6_FORWARDING);
  const mapped = topology && {
    ...topology,
    networks: Object.fromEntries(Object.entries(topology.networks).map(([k, n]) => [k, networkInFamily(n, family)])),
  };
  return { hosts, sysctlNames, topology: mapped, family, problems };
}
