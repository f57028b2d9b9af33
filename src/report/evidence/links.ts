// Which hosts connect to which, from the plan: every client actor's target and every proxy upstream, grouped
// per (connecting host, accepting host). The evidence about one link is read per host and per peer, so each
// link also says under which keys each end's census lists the other: the client's by server ip:port, the
// server's by the address the client's packets carry (its own, a bound source address, or a masquerading
// gateway's).
import { endpointText } from '../../core/ipv6.ts';
import { ownPortCount } from '../../core/connection-model.ts';
import type { HostPlan, Plan } from '../../core/plan.ts';
import { connectionsOf } from '../../plan/connection-models.ts';
import { addressInSubnet } from '../../plan/lab-addresses.ts';

export interface Link {
  /** The host that connects (the client side of these connections). */
  readonly client: string;
  /** The host that accepts. */
  readonly server: string;
  /** Actors on the client host that make these connections. */
  readonly clientActors: readonly string[];
  /** Server actors they connect to. */
  readonly serverActors: readonly string[];
  /** ip:port of each server actor: the client census's per-peer keys. */
  readonly destinations: readonly string[];
  /** The source address the server sees: the server census's per-peer key. */
  readonly seenAs: string;
  /** The masquerading gateway in between, when there is one. */
  readonly via?: string;
  /** Local ports the client may use toward one destination when it picks them itself (bind before connect to one port: 1; a proxy's own range); absent: ip_local_port_range. */
  readonly ownPorts?: number;
}

/** The address a packet from `from` to `to` carries as its source once it reaches `to`, and the gateway that rewrote it. */
function sourceSeen(
  plan: Plan,
  from: HostPlan,
  to: HostPlan,
  bind: string | undefined,
): { seenAs: string; via?: string } {
  for (const route of from.routes ?? []) {
    if (!addressInSubnet(to.address, route.to)) continue;
    const gw = Object.values(plan.hosts).find((h) => h.interfaces?.some((i) => i.address === route.via));
    if (gw?.gateway?.masquerade) return { seenAs: gw.gateway.masquerade.address, via: gw.name };
  }
  // A bound source address (nginx proxy_bind, HAProxy source): 0.0.0.0 and loopback leave the host's own.
  if (bind !== undefined && bind !== '0.0.0.0' && !bind.startsWith('127.')) return { seenAs: bind };
  return { seenAs: from.address };
}

export function planLinks(plan: Plan): Link[] {
  const byPair = new Map<
    string,
    {
      client: string;
      server: string;
      clientActors: Set<string>;
      serverActors: Set<string>;
      destinations: Set<string>;
      seenAs: string;
      via?: string;
      ownPorts?: number;
    }
  >();
  for (const actor of Object.values(plan.actors)) {
    for (const dial of connectionsOf(actor).dials) {
      const t = dial.to;
      const from = plan.hosts[actor.host];
      const to = plan.hosts[t.host];
      if (!from || !to || t.host === actor.host) continue;
      const key = `${actor.host}\0${t.host}`;
      let link = byPair.get(key);
      if (!link) {
        const seen = sourceSeen(plan, from, to, dial.sourceAddress);
        byPair.set(
          key,
          (link = {
            client: actor.host,
            server: t.host,
            clientActors: new Set(),
            serverActors: new Set(),
            destinations: new Set(),
            ...seen,
          }),
        );
      }
      const own = ownPortCount(dial.localPorts);
      if (own !== undefined) link.ownPorts = Math.max(link.ownPorts ?? 0, own);
      link.clientActors.add(actor.name);
      link.serverActors.add(t.actor);
      link.destinations.add(endpointText(t.address, t.port));
    }
  }
  return [...byPair.values()].map((l) => ({
    ...l,
    clientActors: [...l.clientActors],
    serverActors: [...l.serverActors],
    destinations: [...l.destinations],
  }));
}

/** The links a host takes part in, on either end. */
export function linksOf(links: readonly Link[], host: string): Link[] {
  return links.filter((l) => l.client === host || l.server === host);
}

/** The hosts a host's census lists under one per-peer key: the servers of that ip:port, or the clients seen from that address. */
export function hostsOfPeerKey(
  links: readonly Link[],
  host: string,
  role: 'listen' | 'ephemeral',
  key: string,
): string[] {
  const found =
    role === 'ephemeral'
      ? links.filter((l) => l.client === host && l.destinations.includes(key)).map((l) => l.server)
      : links.filter((l) => l.server === host && l.seenAs === key).map((l) => l.client);
  return [...new Set(found)];
}
