// A dual-stack host that connects to one destination host over IPv4 and over IPv6: both families take local ports
// from the one ip_local_port_range (net.ipv4.ip_local_port_range serves IPv6 sockets too), and connect() counts a
// port as taken only toward the 4-tuple it is in, so each destination address has the whole range.
import { endpointText } from '../../core/ipv6.ts';
import { floods } from '../../core/connection-model.ts';
import { portBudget } from '../../core/port-budget.ts';
import { connectionsOf } from '../../plan/connection-models.ts';
import { hostPeak, peerPeak, portBudgetRef, sockstatTw, type Finding } from '../claims/claim.ts';
import { ClaimSet } from '../claims/measure.ts';
import type { FindingInput } from './rule.ts';
import { n } from './words.ts';

interface FamilyDial {
  readonly actor: string;
  readonly destination: string;
  readonly ipv6: boolean;
}

export function dualStackFindings({ plan, report }: FindingInput): Finding[] {
  if (plan.family !== 'dual') return [];
  // Per (client host, destination host): the destinations its floods dial with ports from the range.
  const groups = new Map<string, FamilyDial[]>();
  for (const a of Object.values(plan.actors)) {
    const model = connectionsOf(a);
    if (!floods(model)) continue;
    for (const dial of model.dials) {
      if (dial.localPorts.from !== 'range') continue;
      const key = `${a.host}\0${dial.to.host}`;
      groups.set(key, [
        ...(groups.get(key) ?? []),
        {
          actor: a.name,
          destination: endpointText(dial.to.address, dial.to.port),
          ipv6: dial.to.address.includes(':'),
        },
      ]);
    }
  }
  const out: Finding[] = [];
  for (const [key, dials] of groups) {
    const [hostName, peer] = key.split('\0') as [string, string];
    const host = report.hosts[hostName];
    const budget = host && portBudget(host.sysctls);
    const v4 = dials.filter((d) => !d.ipv6);
    const v6 = dials.filter((d) => d.ipv6);
    if (!host || !budget || !v4.length || !v6.length) continue;
    const set = new ClaimSet({ plan, report });
    const its = { peers: [peer] };
    const ports = set.add({
      name: 'portBudget',
      unit: 'ports',
      plus: [portBudgetRef(hostName, budget.budget)],
      ...its,
    });
    const cap = [hostPeak(hostName, 'TIME_WAIT'), ...(host.samples > 0 ? [sockstatTw(hostName)] : [])];
    const held = (family: FamilyDial[], of: string) =>
      set.add({
        name: 'peerTimeWait',
        of,
        unit: 'sockets',
        plus: [...new Set(family.map((d) => d.destination))].map((d) =>
          peerPeak(hostName, 'ephemeral', d, 'TIME_WAIT'),
        ),
        cap,
        ...its,
        end: 'client',
      });
    const held4 = held(v4, 'ipv4');
    const held6 = held(v6, 'ipv6');
    const total = set.add({
      name: 'timeWaitPeak',
      unit: 'sockets',
      plus: [hostPeak(hostName, 'TIME_WAIT')],
      ...(host.samples > 0 ? { cap: [sockstatTw(hostName)] } : {}),
      peers: [],
    });
    const named = (family: FamilyDial[]) =>
      [...new Set(family.map((d) => d.destination))]
        .map(
          (d) =>
            `${d} (${family
              .filter((f) => f.destination === d)
              .map((f) => `actor ${f.actor}`)
              .join(', ')})`,
        )
        .join(', ');
    let s = `Host ${hostName} connected to host ${peer} over IPv4, to ${named(v4)}, and over IPv6, to ${named(v6)}: both families take their local ports from its one ip_local_port_range (${budget.range}, ${n(ports.value)} ports; the net.ipv4 sysctl serves IPv6 sockets too), and connect() counts a port as taken only toward the destination ip:port it is connected to, so each family has the whole range toward host ${peer}.`;
    s += ` TIME_WAIT toward host ${peer} peaked at ${n(held4.value)} over IPv4 and ${n(held6.value)} over IPv6; the host held ${n(total.value)} at its peak${total.value > ports.value ? `, more than the ${n(ports.value)} ports of its range` : ''}.`;
    s +=
      ' What would change it: the same as for one family (keep-alive, the server closing first, tcp_tw_reuse=1, a wider range), for both at once; a second address family gives a client a second budget toward the same server, as a second server address would.';
    out.push(set.finding('dual-stack-port-range', hostName, [peer], s));
  }
  return out;
}
