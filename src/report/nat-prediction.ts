// A NAT gateway's translated ports, predicted from the plan: every connection it carries toward one destination
// ip:port holds one port of its masquerade range (`ports: lo-hi`) while open, so the kept-alive pools behind it
// get at most that many connections through, and the rest wait on SYNs the gateway drops. On this kernel a
// closed connection's conntrack entry does not hold its port (a new SYN takes the 4-tuple over), so only open
// connections count: the pools' connections, not a flood's short ones (no prediction for those).
import { endpointText } from '../core/ipv6.ts';
import { destinationsThrough, hostsBehind, pooledConnections } from './evidence/gateway.ts';
import type { Plan } from '../core/plan.ts';
import type { HostReport, NatPortsPrediction } from './report.ts';
import { n } from './findings/words.ts';

const ratio = (measured: number, predicted: number) =>
  predicted > 0 ? Math.round((measured / predicted) * 1000) / 1000 : null;

/** For each pooled load actor behind a masquerade with a port range: the range, the pools' wish, what got through. */
export function predictNatPorts(plan: Plan, hosts: Record<string, HostReport>): Record<string, NatPortsPrediction> {
  const out: Record<string, NatPortsPrediction> = {};
  for (const gateway of Object.values(plan.hosts)) {
    const m = gateway.gateway?.masquerade;
    if (!m?.ports) continue;
    const byDestination = destinationsThrough(plan, hostsBehind(plan, gateway.name)).filter((d) => d.pools.length > 0);
    const translatedPorts = m.ports.hi - m.ports.lo + 1;
    for (const d of byDestination) {
      const destination = endpointText(d.address, d.port);
      const pooled = pooledConnections(d);
      const predictedHeld = Math.min(pooled, translatedPorts);
      const measuredHeld = hosts[d.host]?.peak.peers.listen[m.address]?.ESTABLISHED ?? 0;
      const basis = `${d.pools.map((a) => `${a.actor} ${n(a.connections)}`).join(', ')}: ${n(pooled)} kept-alive connections to ${destination} through host ${gateway.name}, whose masquerade translates into ${n(translatedPorts)} ports (${m.ports.lo}-${m.ports.hi}), one per open connection: ${pooled > translatedPorts ? `${n(translatedPorts)} get through and ${n(pooled - translatedPorts)} wait on SYNs the gateway drops` : 'every one fits'}; measured as host ${d.host}'s connections ESTABLISHED from ${m.address} at their peak`;
      for (const a of d.pools)
        out[a.actor] = {
          actor: a.actor,
          gateway: gateway.name,
          destination,
          translatedPorts,
          pooled,
          predictedHeld,
          measuredHeld,
          ratio: ratio(measuredHeld, predictedHeld),
          basis,
        };
    }
  }
  return out;
}
