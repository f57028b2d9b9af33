// Clients behind a masquerade whose SYNs share source ports, predicted from the plan. Without fully-random the NAT
// first keeps a SYN's own source port, and can only when no confirmed conntrack entry holds that port toward the
// destination (nf_nat_core.c get_unique_tuple: the original tuple first, then a random offset into the range).
// When every client draws from one range of R ports and C connections are going at once, each port is wanted by
// C / R of them and one holds it: the other 1 - R / C of the SYNs find it held (Conntrack.found counts the NAT's
// lookups that found a tuple taken) and are translated to another port. Two SYNs that find one port free at the
// same moment, on two CPUs, both keep it, and the second clashes when it is confirmed: the insertion race, which
// only those SYNs can lose. With fully-random no SYN keeps its port: each draws one at random from the range.
import { concurrencyOf } from '../core/connection-model.ts';
import type { Plan } from '../core/plan.ts';
import { portBudget } from '../core/port-budget.ts';
import { connectionsOf } from '../plan/connection-models.ts';
import { destinationsThrough, hostsBehind } from './evidence/gateway.ts';
import { n } from './findings/words.ts';
import { stat, type HostReport, type NatRacePrediction, type Report } from './report.ts';

/** What a masquerade without a port range translates into for a source port of 1024 or more (nf_nat_core.c). */
export const UNRANGED_TRANSLATED_PORTS = 65535 - 1024 + 1;

const share = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 1000) / 1000 : null);

/** The clients' common ip_local_port_range, as read back, in ports; undefined where they differ or one is unknown. */
function sharedRange(
  hosts: Record<string, HostReport>,
  names: readonly string[],
): { ports: number; range: string } | undefined {
  const ranges = names.map((h) => hosts[h] && portBudget(hosts[h].sysctls));
  const first = ranges[0];
  return first && ranges.every((r) => r?.range === first.range)
    ? { ports: first.budget, range: first.range }
    : undefined;
}

/** For each flood behind a masquerade whose clients share a source port range no wider than their connections at once. */
export function predictNatRace(
  plan: Plan,
  { hosts, actors }: Pick<Report, 'hosts' | 'actors'>,
): Record<string, NatRacePrediction> {
  const out: Record<string, NatRacePrediction> = {};
  for (const gateway of Object.values(plan.hosts)) {
    const m = gateway.gateway?.masquerade;
    const counters = hosts[gateway.name]?.counters.delta;
    // A gateway without conntrack statistics (an older report, or conntrack not loaded) has no evidence to compare.
    if (!m || !counters || !hosts[gateway.name]?.conntrack) continue;
    for (const d of destinationsThrough(plan, hostsBehind(plan, gateway.name))) {
      const floods = d.actors
        .map((a) => plan.actors[a]!)
        .filter((a) =>
          connectionsOf(a).dials.every((dial) => !dial.perRequest.pooled && dial.localPorts.from === 'range'),
        );
      if (!floods.length || floods.length !== d.actors.length) continue;
      const atOnce = floods.reduce((sum, a) => sum + (concurrencyOf(connectionsOf(a))?.requests ?? 0), 0);
      const shared = sharedRange(hosts, [...new Set(floods.map((a) => a.host))]);
      if (!shared || atOnce <= shared.ports) continue;
      const translatedPorts = m.ports ? m.ports.hi - m.ports.lo + 1 : UNRANGED_TRANSLATED_PORTS;
      const randomFully = m.randomFully === true;
      const predictedShare = randomFully ? 0 : Math.round((1 - shared.ports / atOnce) * 1000) / 1000;
      const connections = floods.reduce((sum, a) => sum + (stat(actors[a.name], 'connected') ?? 0), 0);
      const found = counters['Conntrack.found'] ?? 0;
      const measuredShare = share(found, connections);
      const destination = `${d.address}:${d.port}`;
      const basis = randomFully
        ? `${floods.length} clients keep ${n(atOnce)} connections going at once to ${destination} through host ${gateway.name}, all from the ${n(shared.ports)}-port ip_local_port_range ${shared.range}; fully-random translates every SYN to a random one of ${n(translatedPorts)} ports instead of keeping its source port, so none is predicted to find its own port held; measured as Conntrack.found on host ${gateway.name} over the connections made`
        : `${floods.length} clients keep ${n(atOnce)} connections going at once to ${destination} through host ${gateway.name}, all from the ${n(shared.ports)}-port ip_local_port_range ${shared.range}: each source port is wanted by ${n(atOnce / shared.ports)} at once and one entry holds it, so 1 - ${n(shared.ports)} / ${n(atOnce)} of the SYNs find their port held and are translated to another of ${n(translatedPorts)} (the race needs two to find it free at the same moment); measured as Conntrack.found on host ${gateway.name} over the connections made`;
      for (const a of floods) {
        out[a.name] = {
          actor: a.name,
          gateway: gateway.name,
          destination,
          atOnce,
          sharedSourcePorts: shared.ports,
          translatedPorts,
          randomFully,
          predictedShare,
          found,
          connections,
          measuredShare,
          ratio:
            measuredShare === null || predictedShare <= 0
              ? null
              : Math.round((measuredShare / predictedShare) * 1000) / 1000,
          basis,
        };
      }
    }
  }
  return out;
}
