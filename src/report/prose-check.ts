// The truth check of findings that carry no typed claims (rules not yet converted, and reports written before
// claims): the claims a sentence makes about who closed first, what held the ports, how a count splits, or what
// share of a range was used are recognised by the rules' phrasings and checked against the counters and census.
import { relays } from '../core/connection-model.ts';
import { connectionsOf } from '../plan/connection-models.ts';
import type { Plan } from '../core/plan.ts';
import { portBudget } from '../core/port-budget.ts';
import { ALL_PORTS } from './evidence/port-holders.ts';
import { linksOf, planLinks, type Link } from './evidence/links.ts';
import { capPeer, firstCloses } from './evidence/time-wait.ts';
import type { Report } from './report.ts';
import { n } from './findings/words.ts';

export interface Contradiction {
  /** Index of the finding in report.findings. */
  readonly finding: number;
  /** The claim, as the finding made it. */
  readonly claim: string;
  /** The evidence it contradicts, naming counters and census figures. */
  readonly evidence: string;
}

type Checked = Pick<Report, 'hosts' | 'findings'> & { scenario: { plan: Plan } };
interface Ctx {
  readonly report: Checked;
  readonly links: readonly Link[];
}
type Check = (sentence: string, ctx: Ctx) => { claim: string; evidence: string }[];

const num = (s: string) => Number(s.replace(/,/g, ''));

/** Hosts at the other end of any link of `host`. */
function peersOf(links: readonly Link[], host: string): string[] {
  return [...new Set(linksOf(links, host).map((l) => (l.client === host ? l.server : l.client)))];
}

/** "Host X closed its connections [with host Y] first[, as their S side]": X's kernel counted first closes, more than a named peer whose counters are all this link's, and X took that side. */
const closedFirst: Check = (s, { report, links }) => {
  const out: { claim: string; evidence: string }[] = [];
  const proxyHost = Object.values(report.scenario.plan.actors).find((a) => relays(connectionsOf(a)))?.host;
  for (const m of s.matchAll(/(?<!Who )(?:\b[Hh]ost ([\w-]+)|\b(The proxy)) closed (?:these|its) connections(?: with host ([\w-]+))? first(?:, as their (client|server) side)?/g)) {
    const name = m[1] ?? (m[2] ? proxyHost : undefined);
    const host = name ? report.hosts[name] : undefined;
    if (!name || !host) continue;
    const mine = firstCloses(host);
    if (mine === 0) out.push({ claim: m[0], evidence: `host ${name}'s kernel counted no first close (TcpExt.TW, TWKilled and TCPTimeWaitOverflow +0)` });
    const named = m[3] ? [m[3]] : [...s.matchAll(/\bhost ([\w-]+)/g)].map((x) => x[1]!);
    for (const peer of new Set(named)) {
      if (peer === name || !peersOf(links, name).includes(peer) || !report.hosts[peer]) continue;
      // The peer's counters are all this link's only when it takes part in no other link.
      if (peersOf(links, peer).length !== 1) continue;
      const theirs = firstCloses(report.hosts[peer]!);
      if (theirs > mine) out.push({ claim: m[0], evidence: `host ${peer}, whose only peer is host ${name}, counted ${n(theirs)} first closes against ${n(mine)} on host ${name}` });
    }
    const side = m[4];
    const opens = host.counters.delta[side === 'client' ? 'Tcp.ActiveOpens' : 'Tcp.PassiveOpens'] ?? 0;
    if (side && opens === 0) out.push({ claim: m[0], evidence: `host ${name} ${side === 'client' ? 'opened no connection (Tcp.ActiveOpens +0)' : 'accepted no connection (Tcp.PassiveOpens +0)'}, so it was no connection's ${side} side` });
  }
  return out;
};

/** "its peers closed first on N connections" / "host C closed first on its connections here": the peers' kernels counted that many first closes. */
const peersClosedFirst: Check = (s, { report, links }) => {
  const out: { claim: string; evidence: string }[] = [];
  const m = /[Hh]ost ([\w-]+) held no TIME_WAIT[^.]*?its peers closed first on ([\d,]+) connections/.exec(s);
  if (m && report.hosts[m[1]!]) {
    const peers = peersOf(links, m[1]!);
    const closes = peers.reduce((a, p) => a + firstCloses(report.hosts[p]!), 0);
    if (closes < num(m[2]!)) out.push({ claim: m[0], evidence: `its peers (${peers.join(', ')}) counted ${n(closes)} first closes in all (TcpExt.TW, TWKilled, TCPTimeWaitOverflow)` });
  }
  const c = /[Hh]osts? ([\w-]+(?:, [\w-]+)*(?: and [\w-]+)?)(?: \([^)]*\))? closed first on (?:its|their) connections here/.exec(s);
  if (c) {
    for (const name of c[1]!.split(/, | and /)) {
      const h = report.hosts[name];
      if (h && firstCloses(h) === 0) out.push({ claim: c[0], evidence: `host ${name}'s kernel counted no first close` });
    }
  }
  return out;
};

/** "held by a socket in TIME_WAIT": the host's census had TIME_WAIT toward that destination, and for "every port" most of the budget. */
const heldByTimeWait: Check = (s, { report }) => {
  const m = /(Every local port|[Ii]ts ports)? toward ([\d.]+:\d+|the upstream) w(?:as|ere) held by (?:a socket in TIME_WAIT|a TIME_WAIT socket|sockets in TIME_WAIT)/.exec(s);
  if (!m) return [];
  const name = /\bhost ([\w-]+)/.exec(s)?.[1];
  const host = name ? report.hosts[name] : undefined;
  if (!name || !host) return [];
  const budget = portBudget(host.sysctls)?.budget;
  const tw = m[2]!.includes(':') ? capPeer(host.peak.peers.ephemeral[m[2]!]?.TIME_WAIT ?? 0, host, budget) : capPeer(host.peak.ephemeral.TIME_WAIT, host, budget);
  if (tw === 0) return [{ claim: m[0], evidence: `host ${name}'s census saw no TIME_WAIT toward ${m[2]} in any sample (sockstat tw peak ${n(host.peak.sockstatTw)})` }];
  if (m[1] === 'Every local port' && budget && tw < budget * ALL_PORTS) return [{ claim: m[0], evidence: `host ${name} held at most ${n(tw)} TIME_WAIT toward ${m[2]}, of a ${n(budget)}-port budget` }];
  return [];
};

/** "peak N (a on ..., b on ...)": the parts add up; and a host's TIME_WAIT peak is never above the kernel's own count. */
const partsAddUp: Check = (s, { report }) => {
  const out: { claim: string; evidence: string }[] = [];
  for (const m of s.matchAll(/peak ([\d,]+)(?: at [\d.]+ m?s)? \(([\d,]+) on [^,()]+, ([\d,]+) on [^,()]+/g)) {
    if (num(m[2]!) + num(m[3]!) !== num(m[1]!)) out.push({ claim: m[0], evidence: `${m[2]} + ${m[3]} = ${n(num(m[2]!) + num(m[3]!))}, not ${m[1]}` });
  }
  const p = /TIME_WAIT piled up on host ([\w-]+): peak ([\d,]+)/.exec(s);
  const host = p ? report.hosts[p[1]!] : undefined;
  if (p && host && host.samples > 0 && num(p[2]!) > host.peak.sockstatTw) {
    out.push({ claim: p[0], evidence: `the kernel's own count (sockstat tw, timewait minisockets included) peaked at ${n(host.peak.sockstatTw)}: no census of the same sockets holds more` });
  }
  return out;
};

/** A share of a range is at most 100%, and a ratio is never printed as "0 x". */
const shares: Check = (s) => {
  const out: { claim: string; evidence: string }[] = [];
  for (const m of s.matchAll(/([\d.]+)% of (?:its|the)/g)) {
    if (Number(m[1]) > 100) out.push({ claim: m[0], evidence: 'no range holds more than all its ports' });
  }
  for (const m of s.matchAll(/= 0 x its/g)) out.push({ claim: m[0], evidence: 'a ratio rounded to 0 hides the count it stands for' });
  return out;
};

/** A client whose TIME_WAIT the server is said to hold made connections, and did not close first itself. */
const takeoverClients: Check = (s, { report }) => {
  const out: { claim: string; evidence: string }[] = [];
  for (const m of s.matchAll(/Host ([\w-]+) \(actor [^)]+\) made ([\d,]+) connections[^.]*?(?:left at most ([\d,]+) TIME_WAIT here|held at most ([\d,]+) TIME_WAIT from it)/g)) {
    const held = num(m[3] ?? m[4]!);
    if (num(m[2]!) > 0 && held === 0) out.push({ claim: m[0], evidence: `${m[2]} connections that the server closed first leave at least one TIME_WAIT entry: none was found under host ${m[1]}'s address (behind a gateway, the server sees the gateway's)` });
    const client = report.hosts[m[1]!];
    const own = client ? firstCloses(client) : 0;
    if (own > held && own >= num(m[2]!) / 2) out.push({ claim: m[0], evidence: `host ${m[1]}'s own kernel counted ${n(own)} first closes: it closed first itself, so the TIME_WAIT is its own` });
  }
  return out;
};

/** "none of their connections was closed": no host named counted a first close or an RST. */
const nobodyClosed: Check = (s, { report, links }) => {
  if (!/none of their connections was closed/.test(s)) return [];
  const out: { claim: string; evidence: string }[] = [];
  for (const name of new Set([...s.matchAll(/\bhosts? ([\w-]+)/gi)].map((m) => m[1]!))) {
    const h = report.hosts[name];
    // Host-wide counters speak for these connections only where the host has no other link.
    if (!h || linksOf(links, name).length !== 1) continue;
    if (firstCloses(h) > 0) out.push({ claim: 'none of their connections was closed', evidence: `host ${name} counted ${n(firstCloses(h))} first closes` });
  }
  return out;
};

const CHECKS: readonly Check[] = [closedFirst, peersClosedFirst, heldByTimeWait, partsAddUp, shares, takeoverClients, nobodyClosed];

/** Contradictions of the sentences at `indexes` in report.findings. */
export function proseContradictions(report: Checked, indexes: readonly number[]): Contradiction[] {
  const ctx: Ctx = { report, links: planLinks(report.scenario.plan) };
  return indexes.flatMap((finding) => CHECKS.flatMap((check) => check(report.findings[finding]!, ctx).map((c) => ({ finding, ...c }))));
}
