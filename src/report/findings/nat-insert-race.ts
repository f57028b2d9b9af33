// The conntrack insertion race at a masquerading gateway, for floods whose clients share one source port range
// (report/nat-race-prediction.ts says when). Without fully-random the NAT keeps a SYN's own source port when no
// confirmed entry holds it; a SYN that finds it held is translated to another port (Conntrack.found). Two SYNs that
// find it free at the same moment, on two CPUs, both keep it: the later entry clashes when conntrack confirms it
// (__nf_conntrack_confirm), which counts insert_failed and drop and drops the SYN; its client resends it after its
// 1 s retransmission timeout. A TCP clash is never resolved (nf_ct_resolve_clash merges only protocols that allow
// clashes, UDP among them), so clash_resolve stays where it was. With fully-random no SYN keeps its port: each draws
// a random one, and two clash only when two concurrent SYNs draw the same.
import { actorStat, counter, type Finding } from '../claims/claim.ts';
import { ClaimSet } from '../claims/measure.ts';
import type { NatRacePrediction } from '../report.ts';
import type { FindingInput } from './rule.ts';
import { n } from './words.ts';

const pct = (share: number) => `${Math.round(share * 1000) / 10}%`;

export function natInsertRaceFindings({ plan, report }: FindingInput): Finding[] {
  const groups = new Map<string, NatRacePrediction[]>();
  for (const p of Object.values(report.predictions)) {
    if (!p.natRace) continue;
    const key = `${p.natRace.gateway}>${p.natRace.destination}`;
    groups.set(key, [...(groups.get(key) ?? []), p.natRace]);
  }
  const out: Finding[] = [];
  for (const races of groups.values()) {
    const race = races[0]!;
    const gw = race.gateway;
    const clients = [
      ...new Set(races.map((r) => plan.actors[r.actor]?.host).filter((h): h is string => h !== undefined)),
    ];
    const range = plan.hosts[clients[0] ?? '']?.sysctls?.['net.ipv4.ip_local_port_range'];
    const set = new ClaimSet({ plan, report });
    const its = { peers: clients };
    const connections = set.add({
      name: 'connections',
      unit: 'connections',
      plus: races.map((r) => actorStat(r.actor, 'connected')),
      ...its,
    });
    const found = set.add({
      name: 'counter',
      of: 'Conntrack.found',
      unit: 'count',
      plus: [counter(gw, 'Conntrack.found')],
      ...its,
    });
    const insertFailed = set.add({
      name: 'conntrackInsertFailed',
      unit: 'connections',
      plus: [counter(gw, 'Conntrack.insert_failed')],
      ...its,
    });
    const dropped = set.add({
      name: 'counter',
      of: 'Conntrack.drop',
      unit: 'count',
      plus: [counter(gw, 'Conntrack.drop')],
      ...its,
    });
    const resolved = set.maybe({
      name: 'counter',
      of: 'Conntrack.clash_resolve',
      unit: 'count',
      plus: [counter(gw, 'Conntrack.clash_resolve')],
      ...its,
    });
    const synRetrans = set.add({
      name: 'synRetransmits',
      unit: 'SYNs',
      plus: clients.map((c) => counter(c, 'TcpExt.TCPSynRetrans')),
      ...its,
    });
    const predicted = set.add({
      name: 'prediction',
      of: 'natRace.predictedShare',
      unit: 'share',
      plus: [{ from: 'prediction', actor: race.actor, kind: 'natRace', field: 'predictedShare' }],
      ...its,
    });
    const share = connections.value > 0 ? found.value / connections.value : 0;

    let s = `Host ${gw} masqueraded the SYNs of ${clients.length} clients (${clients.map((c) => `host ${c}`).join(', ')}) toward ${race.destination}, all from one ${n(race.sharedSourcePorts)}-port ip_local_port_range${range ? ` (${range})` : ''} with ${n(race.atOnce)} connections going at once, into ${n(race.translatedPorts)} ports: ports to spare. They made ${n(connections.value)} connections.`;
    if (race.randomFully) {
      s += ` With fully-random the NAT kept no SYN's own source port and drew a random one of ${n(race.translatedPorts)} for each: Conntrack.found +${n(found.value)} (a drawn port already held, then the next one tried), ${pct(share)} of the connections.`;
      s +=
        insertFailed.value > 0
          ? ` Conntrack.insert_failed +${n(insertFailed.value)}: two SYNs at the same moment drew the same port and the later entry clashed when confirmed; the gateway dropped its SYN (Conntrack.drop +${n(dropped.value)}) and its client resent it (TcpExt.TCPSynRetrans +${n(synRetrans.value)} on the client hosts, host-wide).`
          : ` Conntrack.insert_failed +0: no two SYNs drew one port at the same moment, so no SYN was lost at insertion (TcpExt.TCPSynRetrans +${n(synRetrans.value)} on the client hosts, host-wide).`;
    } else {
      s += ` Without fully-random the NAT keeps a SYN's own source port when no entry holds it: Conntrack.found +${n(found.value)} counts the SYNs that found theirs held by another client's entry and were translated to another port, ${pct(share)} of the connections (predicted 1 - ${n(race.sharedSourcePorts)} / ${n(race.atOnce)} = ${pct(predicted.value)}).`;
      s +=
        insertFailed.value > 0
          ? ` Conntrack.insert_failed +${n(insertFailed.value)}: that many SYNs found the port free at the same moment as another SYN on the other CPU, both kept it, and the later entry clashed when conntrack confirmed it: the insertion race, with ports to spare. The gateway dropped those SYNs (Conntrack.drop +${n(dropped.value)}) and the clients resent them after their 1 s retransmission timeout (TcpExt.TCPSynRetrans +${n(synRetrans.value)} on the client hosts, host-wide): connects that took a second longer, and no error. Fully-random (randomFully=1) keeps no source port, so two SYNs clash only when they draw one random port of ${n(race.translatedPorts)}.`
          : ` Conntrack.insert_failed +0: no two SYNs found the port free at the same moment, so the insertion race did not occur in this run: it needs both SYNs between the NAT's choice of port and conntrack's confirmation of the entry at once, on two CPUs, a window as short as the gateway's own work on one packet${synRetrans.value > 0 ? `; the ${n(synRetrans.value)} SYNs the clients resent (TcpExt.TCPSynRetrans, host-wide) were not lost to a clash` : ''}. More connections per second, or more CPUs forwarding at once, make it likelier; fully-random (randomFully=1) takes away the kept source port it needs.`;
    }
    if (resolved && resolved.value > 0)
      s += ` Conntrack.clash_resolve +${n(resolved.value)}: clashes of other protocols, resolved instead of dropped.`;
    out.push(set.finding('nat-insert-race', gw, clients, s));
  }
  return out;
}
