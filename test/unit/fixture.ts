// Report fixtures captured from real runs (test/fixtures/reports/README.md says how), and what the finding
// rules' sentences look like from outside: number and duration formats, and a way to call a rule as the
// runtime does (src/report/findings/index.ts).
import { readdirSync, readFileSync } from 'node:fs';
import type { Claim, Finding } from '../../src/report/claims/claim.ts';
import type { Report } from '../../src/report/report.ts';

const DIR = new URL('../fixtures/reports/', import.meta.url);

/** A fresh copy of test/fixtures/reports/<name>.json on every call: tests may modify it. */
export function loadReportFixture(name: string): Report {
  return JSON.parse(readFileSync(new URL(`${name}.json`, DIR), 'utf8')) as Report;
}

/** Every fixture's name (file name without .json). */
export function reportFixtureNames(): string[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

type Rule = (input: { plan: Report['scenario']['plan']; report: Report }) => (string | { text: string })[];
type ClaimRule = (input: { plan: Report['scenario']['plan']; report: Report }) => Finding[];

/** Calls a rule as findings() does: the plan from the report, and the report itself; its sentences. */
export function runRule(rule: Rule, report: Report): string[] {
  return rule({ plan: report.scenario.plan, report }).map((f) => (typeof f === 'string' ? f : f.text));
}

/** Calls a rule as findings() does, and returns its findings with their claims. */
export function runFindings(rule: ClaimRule, report: Report): Finding[] {
  return rule({ plan: report.scenario.plan, report });
}

/** The claims of `name` (and `of`) the findings make, with the host and peers each speaks of: what a test asserts, never the words. */
export function claimed(
  findings: readonly Finding[],
  name: Claim['name'],
  of?: string,
): { host: string; peers: readonly string[]; value: number; claim: Claim }[] {
  return findings.flatMap((f) =>
    f.claims
      .filter((c) => c.name === name && (of === undefined || c.of === of))
      .map((c) => ({ host: f.host, peers: c.peers ?? f.peers, value: c.value, claim: c })),
  );
}

/** The findings whose claims cite a stat of `actor`: how a test picks a finding without reading its words. */
export function citing(findings: readonly Finding[], actor: string): Finding[] {
  return findings.filter((f) =>
    f.claims.some((c) =>
      [...c.plus, ...(c.minus ?? []), ...(c.over ?? [])].some((r) => 'actor' in r && r.actor === actor),
    ),
  );
}

/** The value of the one claim of `name` (and `of`) about `host` in the findings; fails when there is none or several. */
export function claimValue(findings: readonly Finding[], host: string, name: Claim['name'], of?: string): number {
  const hits = claimed(findings, name, of).filter((c) => c.host === host);
  const values = [...new Set(hits.map((c) => c.value))];
  if (values.length !== 1)
    throw new Error(
      `expected one value of claim ${name}${of ? ` (${of})` : ''} about host ${host}, got ${JSON.stringify(values)}`,
    );
  return values[0]!;
}

/** A number as the sentences print it: 1,000. */
export const n = (v: number) => v.toLocaleString('en-US');

/** A share as the sentences print it: one decimal, 100.5%. */
export const pct = (part: number, whole: number) => `${Math.round((part / whole) * 1000) / 10}%`;

/** A duration as the sentences print it: 341 ms, 3.34 s, 12.3 s. */
export const dur = (ms: number) =>
  ms >= 1000 ? `${(ms / 1000).toFixed(ms >= 10_000 ? 1 : 2)} s` : `${Math.round(ms)} ms`;

/** The one sentence that contains `marker`; fails when there is none or more than one. */
export function only(sentences: string[], marker: string): string {
  const hits = sentences.filter((s) => s.includes(marker));
  if (hits.length !== 1)
    throw new Error(
      `expected one sentence with ${JSON.stringify(marker)}, got ${hits.length}:\n${sentences.join('\n')}`,
    );
  return hits[0]!;
}

/** The sentences that speak of host `name` ("host NAME" or "Host NAME", the whole name). */
export function about(sentences: string[], name: string): string[] {
  const re = new RegExp(`\\b[Hh]ost ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`);
  return sentences.filter((s) => re.test(s));
}

/** An actor's stats from the report (its options and counts), untyped as the report keeps them. */
export function stats(report: Report, actor: string): Record<string, any> {
  const s = report.actors[actor];
  if (!s) throw new Error(`no actor ${actor} in the report`);
  return s as Record<string, any>;
}

/** A host of the report; fails when absent. */
export function host(report: Report, name: string): Report['hosts'][string] {
  const h = report.hosts[name];
  if (!h) throw new Error(`no host ${name} in the report`);
  return h;
}
