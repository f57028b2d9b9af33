// Checks a report's findings against the evidence the report itself carries. A finding with typed claims
// (report.claims) is checked number by number: each claim's value is derived again from the counters, census
// peaks and actor stats it names, and a host-wide counter may speak for a peer group only where the host's
// census holds no TIME_WAIT with any peer outside it. Findings without claims fall back on the phrasings of
// prose-check.ts. Pure: reads a report, returns the contradictions found.
import type { Plan } from '../core/plan.ts';
import type { Claim, FindingClaims } from './claims/claim.ts';
import { rederive } from './claims/rederive.ts';
import { planLinks, type Link } from './evidence/links.ts';
import { n } from './findings/words.ts';
import { proseContradictions, type Contradiction } from './prose-check.ts';
import type { Report } from './report.ts';

export type { Contradiction } from './prose-check.ts';

type Checked = Pick<Report, 'hosts' | 'findings'> & Partial<Pick<Report, 'actors' | 'claims' | 'captures'>> & { scenario: { plan: Plan } };

/** Rounding the words may apply: a ratio printed to three decimals. */
const TOLERANCE = 0.0005;

const claimText = (f: FindingClaims, c: Claim) => {
  const peers = c.peers ?? f.peers;
  return `${c.name} ${c.bound === 'at-least' ? '>= ' : ''}${n(c.value)} ${c.unit} (host ${f.host}${peers.length ? `, peers ${peers.join(', ')}` : ''})`;
};

/** TIME_WAIT the host's census held with peers outside `inside`: host-wide counters then count more than the group. */
function timeWaitOutside(report: Checked, links: readonly Link[], host: string, inside: ReadonlySet<string>): { peer: string; count: number } | undefined {
  const h = report.hosts[host];
  if (!h) return undefined;
  for (const l of links) {
    if (l.client === host && !inside.has(l.server)) {
      for (const d of l.destinations) {
        const count = h.peak.peers.ephemeral[d]?.TIME_WAIT ?? 0;
        if (count > 0) return { peer: l.server, count };
      }
    }
    if (l.server === host && !inside.has(l.client)) {
      const count = h.peak.peers.listen[l.seenAs]?.TIME_WAIT ?? 0;
      if (count > 0) return { peer: l.client, count };
    }
  }
  return undefined;
}

function claimContradictions(report: Checked, links: readonly Link[], f: FindingClaims): Contradiction[] {
  const out: Contradiction[] = [];
  for (const c of f.claims) {
    const peers = c.peers ?? f.peers;
    const inside = new Set([f.host, ...peers]);
    const claim = claimText(f, c);
    const again = rederive({ hosts: report.hosts, actors: report.actors ?? {}, captures: report.captures }, c);
    if ('unreadable' in again) out.push({ finding: f.finding, claim, evidence: again.unreadable.join('; ') });
    else if (!(Math.abs(again.value - c.value) <= TOLERANCE * Math.max(1, Math.abs(again.value)))) {
      out.push({ finding: f.finding, claim, evidence: `its evidence gives ${n(again.value)}` });
    }
    if (peers.length === 0) continue;
    for (const ref of [...c.plus, ...(c.minus ?? []), ...(c.cap ?? [])]) {
      if (ref.from !== 'counter') continue;
      const outside = timeWaitOutside(report, links, ref.host, inside);
      if (outside) out.push({ finding: f.finding, claim, evidence: `${ref.counter} is host-wide, and host ${ref.host} also held ${n(outside.count)} TIME_WAIT with host ${outside.peer}, outside this group` });
    }
  }
  return out;
}

export function contradictions(report: Checked): Contradiction[] {
  const links = planLinks(report.scenario.plan);
  const claimed = report.claims ?? [];
  const covered = new Set(claimed.map((f) => f.finding));
  const unclaimed = report.findings.map((_, i) => i).filter((i) => !covered.has(i));
  return [...claimed.flatMap((f) => claimContradictions(report, links, f)), ...proseContradictions(report, unclaimed)];
}
