// A lab's address family applied to hosts resolved in IPv4 terms: every address, route and masquerade is mapped
// into 2001:2::/48 (lab-addresses6.ts), in place of its IPv4 one (ipv6) or beside it (dual). Gateways then forward
// IPv6 too: net.ipv6.conf.all.forwarding, written inside the gateway's own namespace like ip_forward.
import type { HostPlan, InterfacePlan, LabFamily, MasqueradePlan, NetworkPlan } from '../core/plan.ts';
import { LAB_PREFIX6, labAddress6Of, labSubnet6Of } from './lab-addresses6.ts';

export const LAB_FAMILIES: readonly LabFamily[] = ['ipv4', 'ipv6', 'dual'];
export const IPV6_FORWARDING = 'net.ipv6.conf.all.forwarding';

/** The scenario's family, 'ipv4' when it gives none; anything else is a problem. */
export function resolveFamily(raw: unknown, problems: string[]): LabFamily {
  if (raw === undefined) return 'ipv4';
  if (typeof raw === 'string' && (LAB_FAMILIES as readonly string[]).includes(raw)) return raw as LabFamily;
  problems.push(`family: expected one of ${LAB_FAMILIES.join(', ')}, got ${JSON.stringify(raw)}`);
  return 'ipv4';
}

function mapInterface(i: InterfacePlan, family: LabFamily): InterfacePlan {
  const v6 = labAddress6Of(i.address);
  return family === 'ipv6' ? { ...i, address: v6, prefixLength: LAB_PREFIX6 } : { ...i, address6: v6 };
}

function mapMasquerade(m: MasqueradePlan, family: LabFamily): MasqueradePlan {
  const v6 = labAddress6Of(m.address);
  return family === 'ipv6' ? { ...m, address: v6 } : { ...m, address6: v6 };
}

/** One host in the family: its addresses mapped, its routes mapped (ipv6) or doubled (dual), IPv6 forwarding on a gateway. */
export function hostInFamily(host: HostPlan, family: LabFamily): HostPlan {
  if (family === 'ipv4' || host.address === '') return host;
  const v6 = labAddress6Of(host.address);
  const routes6 = host.routes?.map((r) => ({ to: labSubnet6Of(r.to), via: labAddress6Of(r.via) }));
  const routes = routes6 && (family === 'ipv6' ? routes6 : [...host.routes!, ...routes6]);
  const masquerade = host.gateway?.masquerade && mapMasquerade(host.gateway.masquerade, family);
  return {
    ...host,
    ...(family === 'ipv6' ? { address: v6, prefixLength: LAB_PREFIX6 } : { address6: v6 }),
    ...(host.interfaces ? { interfaces: host.interfaces.map((i) => mapInterface(i, family)) } : {}),
    ...(routes ? { routes } : {}),
    ...(host.gateway ? { gateway: masquerade ? { ...host.gateway, masquerade } : host.gateway } : {}),
    ...(host.gateway ? { sysctls: { ...host.sysctls, [IPV6_FORWARDING]: '1' } } : {}),
  };
}

export function networkInFamily(network: NetworkPlan, family: LabFamily): NetworkPlan {
  if (family === 'ipv4') return network;
  const v6 = labSubnet6Of(network.subnet);
  return family === 'ipv6' ? { ...network, subnet: v6 } : { ...network, subnet6: v6 };
}
