// Checks a report's findings against the evidence the report itself carries, claim by claim: every finding must
// carry typed claims (report.claims), and each claim's value is derived again from the counters, census peaks,
// actor stats and plan it names. Beyond the numbers, what no true claim can do: draw on a host-wide counter for
// one peer group while the host's census held TIME_WAIT with a peer outside it; cite a census entry that is not
// the group's; speak for a host as the client (or server) side of connections it never opened (or accepted);
// count more TIME_WAIT than the kernel's own count; split a peak into parts that do not add up to it; or give a
// range more than all its ports. Pure: reads a report, returns the contradictions found.
import type { Plan } from '../core/plan.ts';
import type { Claim, EvidenceRef, FindingClaims } from './claims/claim.ts';
import { rederive } from './claims/rederive.ts';
import { planLinks, type Link } from './evidence/links.ts';
import { n } from './findings/words.ts';
import type { Report } from './report.ts';

export interface Contradiction {
  /** Index of the finding in report.findings. */
  readonly finding: number;
  /** The claim, as the finding made it. */
  readonly claim: string;
  /** The evidence it contradicts, naming counters and census figures. */
  readonly evidence: string;
}

type Checked = Pick<Report, 'hosts' | 'findings' | 'actors'> &
  Partial<Pick<Report, 'claims' | 'predictions' | 'captures'>> & { scenario: { plan: Plan } };

/** Rounding the words may apply: a ratio printed to three decimals. */
const TOLERANCE = 0.0005;

const claimText = (f: FindingClaims, c: Claim) => {
  const peers = c.peers ?? f.peers;
  return `${c.name}${c.of ? ` ${c.of}` : ''} ${c.bound === 'at-least' ? '>= ' : ''}${n(c.value)} ${c.unit} (host ${f.host}${peers.length ? `, peers ${peers.join(', ')}` : ''})`;
};

const refsOf = (c: Claim): EvidenceRef[] => [
  ...c.plus,
  ...(c.minus ?? []),
  ...(c.cap ?? []),
  ...(c.over ?? []),
  ...(c.times ?? []),
];

/** TIME_WAIT the host's census held with peers outside `inside`: host-wide counters then count more than the group. */
function timeWaitOutside(
  report: Checked,
  links: readonly Link[],
  host: string,
  inside: ReadonlySet<string>,
): { peer: string; count: number } | undefined {
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

/** Where `host`'s census lists its connections with the other hosts of `inside`: by role, the keys of their links. */
function groupKeys(
  links: readonly Link[],
  host: string,
  inside: ReadonlySet<string>,
): { keys: Set<string>; seen: string[] } | undefined {
  const keys = new Set<string>();
  const seen: string[] = [];
  for (const l of links) {
    if (l.client === host && inside.has(l.server)) {
      for (const d of l.destinations) keys.add(`ephemeral ${d}`);
      seen.push(`host ${l.server} under ${l.destinations.join(', ')}`);
    }
    if (l.server === host && inside.has(l.client)) {
      keys.add(`listen ${l.seenAs}`);
      // Reports made before roles came from the server ports listed a closed listener's sockets as ephemeral, keyed by the client's ip:port.
      keys.add(`ephemeral-from ${l.seenAs}`);
      seen.push(`host ${l.client} under ${l.seenAs}${l.via ? ` (through gateway ${l.via})` : ''}`);
    }
  }
  return seen.length ? { keys, seen } : undefined;
}

function keyBelongs(keys: Set<string>, ref: Extract<EvidenceRef, { from: 'peer-peak' }>): boolean {
  if (keys.has(`${ref.role} ${ref.peer}`)) return true;
  return (
    ref.role === 'ephemeral' &&
    [...keys].some(
      (k) => k.startsWith('ephemeral-from ') && ref.peer.startsWith(`${k.slice('ephemeral-from '.length)}:`),
    )
  );
}

const HELD_TIME_WAIT: ReadonlySet<Claim['name']> = new Set([
  'timeWaitPeak',
  'peerTimeWait',
  'timeWaitOnListenPorts',
  'timeWaitOnOwnPorts',
  'peerStatePeak',
  'firstCloses',
]);

/** What the claim's shape says beyond its number, against the report. */
function invariants(report: Checked, links: readonly Link[], f: FindingClaims, c: Claim): string[] {
  const out: string[] = [];
  const peers = c.peers ?? f.peers;
  const inside = new Set([f.host, ...peers]);
  const refs = refsOf(c);
  if (peers.length > 0) {
    for (const ref of refs) {
      if (ref.from === 'counter') {
        const outside = timeWaitOutside(report, links, ref.host, inside);
        if (outside)
          out.push(
            `${ref.counter} is host-wide, and host ${ref.host} also held ${n(outside.count)} TIME_WAIT with host ${outside.peer}, outside this group`,
          );
      }
      if (ref.from === 'peer-peak') {
        const group = groupKeys(links, ref.host, inside);
        if (group && !keyBelongs(group.keys, ref))
          out.push(`host ${ref.host}'s census lists ${group.seen.join('; ')}, not under ${ref.peer}`);
      }
    }
  }
  if (c.end && c.value > 0) {
    const opens = c.end === 'client' ? 'Tcp.ActiveOpens' : 'Tcp.PassiveOpens';
    for (const host of new Set(c.plus.flatMap((r) => ('host' in r ? [r.host] : [])))) {
      if (report.hosts[host] && (report.hosts[host]!.counters.delta[opens] ?? 0) === 0) {
        out.push(
          `host ${host} ${c.end === 'client' ? 'opened no connection' : 'accepted no connection'} (${opens} +0), so it was no connection's ${c.end} side`,
        );
      }
    }
  }
  // TIME_WAIT held, as a census says it, is never more than the kernel's own count of the same namespace (a raw
  // census count, statePeak, may be more: it is said as the census's, beside the kernel's).
  const twHosts = new Set(
    c.plus.flatMap((r) =>
      (r.from === 'host-peak' || r.from === 'peer-peak') && r.state === 'TIME_WAIT' ? [r.host] : [],
    ),
  );
  if (
    HELD_TIME_WAIT.has(c.name) &&
    twHosts.size === 1 &&
    c.plus.every((r) => 'state' in r && r.state === 'TIME_WAIT') &&
    !c.minus?.length
  ) {
    const host = report.hosts[[...twHosts][0]!];
    if (host && host.samples > 0 && c.value > host.peak.sockstatTw)
      out.push(
        `the kernel's own count (sockstat tw, timewait minisockets included) peaked at ${n(host.peak.sockstatTw)}: no census of the same sockets holds more`,
      );
  }
  if (c.unit === 'share' && !(c.value >= 0 && c.value <= 1))
    out.push('no range holds more than all its ports, nor less than none');
  return out;
}

/** A peak said in parts: the parts add up to it. */
function partsAddUp(f: FindingClaims): Contradiction[] {
  const out: Contradiction[] = [];
  for (const peak of f.claims.filter((c) => c.name === 'timeWaitPeak')) {
    const parts = f.claims.filter((c) => c.name === 'timeWaitOnListenPorts' || c.name === 'timeWaitOnOwnPorts');
    if (parts.length !== 2) continue;
    const sum = parts[0]!.value + parts[1]!.value;
    if (sum !== peak.value)
      out.push({
        finding: f.finding,
        claim: claimText(f, peak),
        evidence: `its parts ${n(parts[0]!.value)} + ${n(parts[1]!.value)} = ${n(sum)}, not ${n(peak.value)}`,
      });
  }
  return out;
}

function claimContradictions(report: Checked, links: readonly Link[], f: FindingClaims): Contradiction[] {
  const out: Contradiction[] = [];
  const source = { plan: report.scenario.plan, report };
  for (const c of f.claims) {
    const claim = claimText(f, c);
    const again = rederive(source, c);
    if ('unreadable' in again) out.push({ finding: f.finding, claim, evidence: again.unreadable.join('; ') });
    else if (!(Math.abs(again.value - c.value) <= TOLERANCE * Math.max(1, Math.abs(again.value)))) {
      out.push({ finding: f.finding, claim, evidence: `its evidence gives ${n(again.value)}` });
    }
    for (const evidence of invariants(report, links, f, c)) out.push({ finding: f.finding, claim, evidence });
  }
  return [...out, ...partsAddUp(f)];
}

export function contradictions(report: Checked): Contradiction[] {
  const links = planLinks(report.scenario.plan);
  const claimed = report.claims ?? [];
  const covered = new Set(claimed.filter((f) => f.claims.length > 0).map((f) => f.finding));
  const bare = report.findings.flatMap((text, finding) =>
    covered.has(finding)
      ? []
      : [
          {
            finding,
            claim: text,
            evidence: 'the finding carries no claims: none of its numbers can be checked against the evidence',
          },
        ],
  );
  return [...bare, ...claimed.flatMap((f) => claimContradictions(report, links, f))];
}
