// The `ip` commands that build a netns lab, grouped by the namespace they run in, so that each group is one
// `ip -batch` process: the machine's namespace only adds the lab's namespaces; the bridge namespace makes the
// bridges and every veth pair (the host's end is created straight in the host's namespace, `peer ... netns`);
// each host then brings up its own interfaces, addresses and routes. Every value is parsed before it is written.
import { isIP } from 'node:net';
import { interfaceAddressArgs } from './interface-addresses.ts';
import { WaitlabError } from '../core/errors.ts';
import type { HostPlan, InterfacePlan } from '../core/plan.ts';
import type { IpCommand } from './ip-batch.ts';

/** The network of a lab that declares none: every host on br0. */
export const DEFAULT_NETWORK = 'lab';

export interface NetnsBatches {
  /** `netns add` of the bridge namespace, run in the machine's namespace. */
  readonly bridgeNamespace: readonly IpCommand[];
  /** `netns add` of every host's namespace, run from the bridge namespace (host-hash-tables.ts) or the machine's. */
  readonly hostNamespaces: readonly IpCommand[];
  /** Bridges and veth pairs, run in the bridge namespace. */
  readonly bridge: readonly IpCommand[];
  /** Per host namespace: loopback, interfaces, addresses, routes. */
  readonly hosts: ReadonlyMap<string, readonly IpCommand[]>;
}

export interface BatchHost {
  readonly namespace: string;
  readonly plan: HostPlan;
}

// A network interface name: IFNAMSIZ is 16 with the terminating NUL.
const DEVICE = /^[a-z][a-z0-9]{0,14}$/;
const NAMESPACE = /^wl\d+n\d+-[A-Za-z0-9_-]+$/;

function device(name: string): string {
  if (!DEVICE.test(name)) throw new WaitlabError(`not an interface name waitlab makes: ${JSON.stringify(name)}`);
  return name;
}

function namespace(name: string): string {
  if (!NAMESPACE.test(name)) throw new WaitlabError(`not a lab namespace name: ${JSON.stringify(name)}`);
  return name;
}

function address(text: string): string {
  if (isIP(text) === 0) throw new WaitlabError(`not an IP address: ${JSON.stringify(text)}`);
  return text;
}

/** address/prefix with the prefix an integer within the address family's width. */
function cidr(addr: string, prefixLength: number): string {
  const width = isIP(addr) === 6 ? 128 : 32;
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > width)
    throw new WaitlabError(`not a prefix length for ${addr}: ${prefixLength}`);
  return `${address(addr)}/${prefixLength}`;
}

function network(text: string): string {
  const [addr, len, extra] = text.split('/');
  if (addr === undefined || len === undefined || extra !== undefined || !/^\d+$/.test(len))
    throw new WaitlabError(`not a network (address/prefix): ${JSON.stringify(text)}`);
  return cidr(addr, Number(len));
}

export function hostInterfaces(hp: HostPlan): readonly InterfacePlan[] {
  return (
    hp.interfaces ?? [
      {
        network: DEFAULT_NETWORK,
        dev: 'eth0',
        address: hp.address,
        prefixLength: hp.prefixLength,
        ...(hp.address6 ? { address6: hp.address6 } : {}),
      },
    ]
  );
}

/**
 * The commands for a lab: `bridges` maps each network to its bridge's name (br0, br1, ...); veth peers in the
 * bridge namespace are p0, p1, ... in host order, as the one-command-at-a-time driver named them.
 */
export function netnsBatches(
  bridgeNamespace: string,
  bridges: ReadonlyMap<string, string>,
  hosts: readonly BatchHost[],
): NetnsBatches {
  const bridgeNs: IpCommand[] = [['netns', 'add', namespace(bridgeNamespace)]];
  const hostNamespaces: IpCommand[] = hosts.map((h) => ['netns', 'add', namespace(h.namespace)]);
  const bridge: IpCommand[] = [];
  for (const br of bridges.values())
    bridge.push(['link', 'add', device(br), 'type', 'bridge'], ['link', 'set', device(br), 'up']);
  const perHost = new Map<string, IpCommand[]>();
  let port = 0;
  for (const { namespace: ns, plan } of hosts) {
    const interfaces = hostInterfaces(plan);
    const own: IpCommand[] = [['link', 'set', 'lo', 'up']];
    for (const iface of interfaces) {
      const br = bridges.get(iface.network);
      if (br === undefined)
        throw new WaitlabError(`host ${plan.name} is on network ${iface.network}, which the lab does not have`);
      const peer = `p${port++}`;
      bridge.push(
        ['link', 'add', peer, 'type', 'veth', 'peer', 'name', device(iface.dev), 'netns', namespace(ns)],
        ['link', 'set', peer, 'master', device(br), 'up'],
      );
      for (const args of interfaceAddressArgs(iface)) own.push(['addr', 'add', ...args, 'dev', device(iface.dev)]);
      own.push(['link', 'set', device(iface.dev), 'up']);
    }
    // Routes only to other lab networks, and only inside the host's own namespace.
    for (const route of plan.routes ?? []) own.push(['route', 'add', network(route.to), 'via', address(route.via)]);
    perHost.set(ns, own);
  }
  return { bridgeNamespace: bridgeNs, hostNamespaces, bridge, hosts: perHost };
}
