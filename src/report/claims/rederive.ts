// A claim's number, derived again from report.json alone: the truth check compares it with what the claim says.
import type { Report } from '../report.ts';
import type { Claim, EvidenceRef } from './claim.ts';

type Hosts = Pick<Report, 'hosts' | 'actors'> & Partial<Pick<Report, 'captures'>>;

/** One ref's value, or a reason it cannot be read (a host or actor the report does not have). */
export function evidenceValue(report: Hosts, ref: EvidenceRef): number | string {
  if (ref.from === 'actor-stat') {
    const v = (report.actors[ref.actor] as unknown as Record<string, unknown> | undefined)?.[ref.stat];
    return typeof v === 'number' ? v : `actor ${ref.actor} reported no ${ref.stat}`;
  }
  if (ref.from === 'capture-frames') return captureCount(report, ref);
  const host = report.hosts[ref.host];
  if (!host) return `the report has no host ${ref.host}`;
  switch (ref.from) {
    case 'counter': return host.counters.delta[ref.counter] ?? 0;
    case 'peer-peak': return host.peak.peers[ref.role][ref.peer]?.[ref.state] ?? 0;
    case 'host-peak': return host.peak.total[ref.state];
    case 'sockstat-tw': return host.peak.sockstatTw;
    // A budget is configuration (a range of sysctls, or a proxy's own source ports), stated with the claim.
    case 'port-budget': return ref.ports;
  }
}

function captureCount(report: Hosts, ref: Extract<EvidenceRef, { from: 'capture-frames' }>): number | string {
  const evidence = report.captures?.find((c) => c.host === ref.host)?.evidence;
  if (!evidence) return `the report has no packet evidence of host ${ref.host}`;
  if (ref.count === 'lateWrites') return evidence.lateWrites.count;
  if (ref.count === 'lateWritesReset') return evidence.lateWrites.answeredByRst;
  const peer = ref.peer === undefined ? undefined : evidence.byPeer[ref.peer];
  return peer ? peer[ref.count] : `host ${ref.host}'s capture has no connections with ${ref.peer ?? 'an unnamed peer'}`;
}

/** The value the claim's evidence gives, or the reasons it gives none. */
export function rederive(report: Hosts, claim: Claim): { value: number } | { unreadable: string[] } {
  const read = (refs: readonly EvidenceRef[] = []) => refs.map((r) => evidenceValue(report, r));
  const all = [read(claim.plus), read(claim.minus), read(claim.cap)];
  const unreadable = all.flat().filter((v): v is string => typeof v === 'string');
  if (unreadable.length) return { unreadable };
  const [plus, minus] = all.map((vs) => (vs as number[]).reduce((a, b) => a + b, 0));
  const value = claim.derive === 'ratio' ? (minus! > 0 ? plus! / minus! : NaN) : plus! - minus!;
  return { value: claim.cap?.length ? Math.min(value, ...(all[2] as number[])) : value };
}
