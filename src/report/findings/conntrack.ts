// A gateway's NAT, from its own namespace's conntrack counters (sampler/conntrack-stats.ts) and the census of
// the servers behind the translation. Every translated connection holds one of the masquerade's ports toward its
// destination ip:port, so `ports: lo-hi` is the NAT's port budget per destination, as ip_local_port_range is a
// client's. When the budget is taken by open connections, the NAT can only hand a new connection a 4-tuple that
// is in use: the entry clashes when it is inserted (Conntrack.insert_failed) and its SYN is dropped
// (Conntrack.drop counts it too); the client sees no error from connect(), only SYNs resent after 1 s, 2 s, ...
// (never EADDRNOTAVAIL: its own ports are free). Two new connections given one port at the same moment clash the
// same way, without the budget being full: the insertion race, which fully-random makes rarer. A full table
// refuses entries (drop beyond insert_failed) or evicts others (early_drop); nf_conntrack_max is one limit for
// the whole machine, read-only in a namespace. On this kernel a closed connection's entry (conntrack TIME_WAIT)
// does not hold its port: a new SYN takes the 4-tuple over, so only open connections use the budget up.
import { endpointText } from '../../core/ipv6.ts';
import { formatDuration } from '../../core/units.ts';
import { destinationsThrough, hostsBehind, pooledConnections } from '../evidence/gateway.ts';
import { counter, type Claim, type EvidenceRef, type Finding } from '../claims/claim.ts';
import type { HostReport } from '../report.ts';
import type { FindingInput } from './rule.ts';
import { n } from './words.ts';

export function conntrackFindings({ plan, report }: FindingInput): Finding[] {
  const out: Finding[] = [];
  for (const [name, host] of Object.entries(report.hosts)) {
    if (!host.conntrack) continue;
    const d = host.counters.delta;
    const behindHosts = hostsBehind(plan, name);
    const behind = behindHosts.map((h) => h.name);
    const dests = destinationsThrough(plan, behindHosts);
    // The finding speaks of the connections the gateway carries: its clients' and the servers' they reach.
    const peers = [...behind, ...new Set(dests.map((d) => d.host))];
    const masquerade = plan.hosts[name]?.gateway?.masquerade;
    const insertFailed = d['Conntrack.insert_failed'] ?? 0;
    const dropped = d['Conntrack.drop'] ?? 0;
    const evicted = d['Conntrack.early_drop'] ?? 0;
    const synRetrans = behind.reduce(
      (sum, p) => sum + (report.hosts[p]?.counters.delta['TcpExt.TCPSynRetrans'] ?? 0),
      0,
    );
    const claims: Claim[] = [
      {
        name: 'conntrackEntriesPeak',
        value: host.conntrack.entriesPeak,
        unit: 'entries',
        bound: 'exact',
        derive: 'sum',
        plus: [{ from: 'conntrack-peak', host: name }],
      },
      {
        name: 'conntrackInsertFailed',
        value: insertFailed,
        unit: 'connections',
        bound: 'exact',
        derive: 'sum',
        plus: [counter(name, 'Conntrack.insert_failed')],
      },
      {
        name: 'conntrackDrops',
        value: dropped + evicted,
        unit: 'entries',
        bound: 'exact',
        derive: 'sum',
        plus: [counter(name, 'Conntrack.drop'), counter(name, 'Conntrack.early_drop')],
      },
    ];
    const max = host.conntrack.max;
    let s = `Host ${name} forwards for ${behind.length ? behind.map((p) => `host ${p}`).join(', ') : 'other hosts'}; its connection tracking table peaked at ${n(host.conntrack.entriesPeak)} entries at ${formatDuration(host.conntrack.atMs)}${max ? ` (nf_conntrack_max ${n(max)}, one limit for the whole machine)` : ''}.`;
    let full = false;
    const ports = masquerade?.ports;
    if (masquerade && ports) {
      const budget = ports.hi - ports.lo + 1;
      for (const dest of dests) {
        const server: HostReport | undefined = report.hosts[dest.host];
        const ref: EvidenceRef = {
          from: 'peer-peak',
          host: dest.host,
          role: 'listen',
          peer: masquerade.address,
          state: 'ESTABLISHED',
        };
        const open = server?.peak.peers.listen[masquerade.address]?.ESTABLISHED ?? 0;
        claims.push({
          name: 'translatedPortsInUse',
          value: open,
          unit: 'connections',
          bound: 'exact',
          derive: 'sum',
          plus: [ref],
          peers: [dest.host],
        });
        full ||= open >= budget;
        s += ` Toward ${endpointText(dest.address, dest.port)} its masquerade translates into ${n(budget)} ports (${ports.lo}-${ports.hi}), one per connection; host ${dest.host} held up to ${n(open)} connections ESTABLISHED from ${masquerade.address}${open >= budget ? ', every translated port' : ''}`;
        const pooled = pooledConnections(dest);
        if (pooled > 0)
          s += `, and the pools of ${dest.actors.join(', ')} keep ${n(pooled)} connections open to it${pooled > budget ? `: ${n(pooled - budget)} more than there are ports` : ''}`;
        s += '.';
      }
    }
    if (insertFailed > 0) {
      if (behind.length)
        claims.push({
          name: 'synRetransmits',
          value: synRetrans,
          unit: 'SYNs',
          bound: 'exact',
          derive: 'sum',
          plus: behind.map((p) => counter(p, 'TcpExt.TCPSynRetrans')),
        });
      s += full
        ? ` Conntrack.insert_failed +${n(insertFailed)}: with every translated port held open, the NAT gave new connections 4-tuples already in use; each clashed when inserted and its SYN was dropped at the gateway (Conntrack.drop +${n(dropped)}). The clients saw no error from connect(), only silence: they resent SYNs (TcpExt.TCPSynRetrans +${n(synRetrans)} on the hosts behind it, host-wide) until their own timeouts; never EADDRNOTAVAIL, for their own ports were free. What would change it: more translated ports or addresses on the gateway, or fewer connections held open through it; fully-random does not add ports.`
        : ` Conntrack.insert_failed +${n(insertFailed)}: new connections were given a 4-tuple another took at the same moment (the insertion race) and their SYNs were dropped at the gateway; the clients resent them after their retransmission timeout (TcpExt.TCPSynRetrans +${n(synRetrans)} on the hosts behind it, host-wide). Fully-random port selection makes such clashes rarer; it adds no ports.`;
    } else s += ' No new connection was lost at insertion (Conntrack.insert_failed +0).';
    if (dropped > insertFailed || evicted > 0)
      s += ` Conntrack.drop +${n(dropped)} beyond its clashes and early_drop +${n(evicted)}: the table was full, so new connections were refused or old entries evicted.`;
    out.push({ rule: 'conntrack', host: name, peers, claims, text: s });
  }
  return out;
}
