// A gateway's side of the plan: the hosts routed through it, and the destinations they dial, with the kept-alive
// connections their pools hold open to each (each such connection holds one of a masquerade's translated ports).
import { endpointText } from '../../core/ipv6.ts';
import type { HostPlan, Plan } from '../../core/plan.ts';
import { connectionsOf } from '../../plan/connection-models.ts';

/** The hosts whose routes go through one of the gateway's addresses. */
export function hostsBehind(plan: Plan, gateway: string): HostPlan[] {
  const own = new Set((plan.hosts[gateway]?.interfaces ?? []).map((i) => i.address));
  return Object.values(plan.hosts).filter((h) => h.name !== gateway && h.routes?.some((r) => own.has(r.via)));
}

export interface GatewayDestination {
  readonly host: string;
  readonly address: string;
  readonly port: number;
  /** Every actor behind the gateway that dials it. */
  readonly actors: readonly string[];
  /** Those of them whose connections are a kept-alive pool, with its size. */
  readonly pools: readonly { readonly actor: string; readonly connections: number }[];
}

/** The destinations (ip:port) the actors on `behind` dial, in the order first dialled. */
export function destinationsThrough(plan: Plan, behind: readonly HostPlan[]): GatewayDestination[] {
  const names = new Set(behind.map((h) => h.name));
  const out = new Map<
    string,
    { host: string; address: string; port: number; actors: string[]; pools: { actor: string; connections: number }[] }
  >();
  for (const actor of Object.values(plan.actors).filter((a) => names.has(a.host))) {
    for (const dial of connectionsOf(actor).dials) {
      const key = endpointText(dial.to.address, dial.to.port);
      const d = out.get(key) ?? {
        host: dial.to.host,
        address: dial.to.address,
        port: dial.to.port,
        actors: [],
        pools: [],
      };
      d.actors.push(actor.name);
      if (dial.perRequest.pooled) d.pools.push({ actor: actor.name, connections: dial.perRequest.connections });
      out.set(key, d);
    }
  }
  return [...out.values()];
}

/** Kept-alive connections the pools to one destination hold open together. */
export const pooledConnections = (d: GatewayDestination) => d.pools.reduce((sum, p) => sum + p.connections, 0);
