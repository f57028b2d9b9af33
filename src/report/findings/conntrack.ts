// A gateway's connection tracking, from its own namespace's counters (sampler/conntrack-stats.ts): how full the
// table got, and the two ways it loses connections. insert_failed: two new connections were translated to one
// 4-tuple at once (the masquerade picked the same source port for both before either was inserted); the loser's
// SYN is dropped and its client sends it again after its retransmission timeout (1 s at first). drop and
// early_drop: the table was full (nf_conntrack_max is one limit for the whole machine, read-only in a namespace).
import { formatDuration } from '../../core/units.ts';
import { counter, type Claim, type Finding } from '../claims/claim.ts';
import type { FindingInput } from './rule.ts';
import { n } from './words.ts';

export function conntrackFindings({ plan, report }: FindingInput): Finding[] {
  const out: Finding[] = [];
  for (const [name, host] of Object.entries(report.hosts)) {
    if (!host.conntrack) continue;
    const d = host.counters.delta;
    // The hosts routed through this one: their SYN retransmits are what a lost insertion costs.
    const own = new Set((plan.hosts[name]?.interfaces ?? []).map((i) => i.address));
    const peers = Object.values(plan.hosts).filter((h) => h.routes?.some((r) => own.has(r.via))).map((h) => h.name);
    const insertFailed = d['Conntrack.insert_failed'] ?? 0;
    const drops = (d['Conntrack.drop'] ?? 0) + (d['Conntrack.early_drop'] ?? 0);
    const synRefs = peers.map((p) => counter(p, 'TcpExt.TCPSynRetrans'));
    const synRetrans = peers.reduce((sum, p) => sum + (report.hosts[p]?.counters.delta['TcpExt.TCPSynRetrans'] ?? 0), 0);
    const claims: Claim[] = [
      { name: 'conntrackEntriesPeak', value: host.conntrack.entriesPeak, unit: 'entries', bound: 'exact', derive: 'sum', plus: [{ from: 'conntrack-peak', host: name }] },
      { name: 'conntrackInsertFailed', value: insertFailed, unit: 'connections', bound: 'exact', derive: 'sum', plus: [counter(name, 'Conntrack.insert_failed')] },
      { name: 'conntrackDrops', value: drops, unit: 'entries', bound: 'exact', derive: 'sum', plus: [counter(name, 'Conntrack.drop'), counter(name, 'Conntrack.early_drop')] },
    ];
    const max = host.conntrack.max;
    let s = `Host ${name} forwards for ${peers.length ? peers.map((p) => `host ${p}`).join(', ') : 'other hosts'}; its connection tracking table peaked at ${n(host.conntrack.entriesPeak)} entries at ${formatDuration(host.conntrack.atMs)}${max ? ` (nf_conntrack_max ${n(max)}, one limit for the whole machine)` : ''}.`;
    if (insertFailed > 0) {
      if (peers.length) claims.push({ name: 'synRetransmits', value: synRetrans, unit: 'SYNs', bound: 'exact', derive: 'sum', plus: synRefs });
      s += ` Conntrack.insert_failed +${n(insertFailed)}: that many new connections were translated to a 4-tuple another one took at the same moment, and their SYNs were dropped at the gateway; the clients sent SYNs again after their retransmission timeout (TcpExt.TCPSynRetrans +${n(synRetrans)} on the hosts behind it, host-wide). Masquerade's random-fully spreads the source ports it picks and makes such clashes rarer; it adds no ports.`;
    } else s += ' No new connection was lost to a clash at insertion (Conntrack.insert_failed +0).';
    if (drops > 0) s += ` Conntrack.drop and early_drop +${n(drops)}: new connections were refused or old entries evicted because the table was full.`;
    out.push({ rule: 'conntrack', host: name, peers, claims, text: s });
  }
  return out;
}
