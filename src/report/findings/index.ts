// Findings: what happened, on which host, by which mechanism, and what would change it, as sentences and, from
// the rules that make them, typed claims. One file per mechanism, listed here in the order the summary shows them.
import type { Plan } from '../../core/plan.ts';
import type { Report } from '../report.ts';
import { addressInUseFindings } from './address-in-use.ts';
import { bindBeforeConnectFindings } from './bind-before-connect.ts';
import { closeWaitFindings } from './close-wait.ts';
import { counterFindings } from './counters.ts';
import { fdLimitFindings } from './fd-limit.ts';
import { fixedLocalPortFindings } from './fixed-local-port.ts';
import { finWait2Findings } from './fin-wait-2.ts';
import { keepAliveFindings } from './keep-alive.ts';
import { listenBacklogFindings } from './listen-backlog.ts';
import { loadErrorFindings } from './load-errors.ts';
import { natSingleSourceFindings } from './nat-single-source.ts';
import { packetFindings } from './packets.ts';
import { proxyUpstreamFindings } from './proxy-upstream.ts';
import { resetFindings } from './resets.ts';
import type { FindingClaims } from '../claims/claim.ts';
import { textOf, type FindingRule } from './rule.ts';
import { timeWaitFindings } from './time-wait.ts';
import { timeWaitTakeoverFindings } from './time-wait-takeover.ts';
import { twOverflowFindings } from './tw-overflow.ts';

const RULES: readonly FindingRule[] = [timeWaitFindings, timeWaitTakeoverFindings, twOverflowFindings, loadErrorFindings, proxyUpstreamFindings, bindBeforeConnectFindings, fdLimitFindings, listenBacklogFindings, addressInUseFindings, fixedLocalPortFindings, natSingleSourceFindings, closeWaitFindings, finWait2Findings, resetFindings, packetFindings, keepAliveFindings, counterFindings];

type Input = Pick<Report, 'hosts' | 'actors' | 'predictions' | 'durationMs'> & Partial<Pick<Report, 'captures'>>;

/** Every finding's sentence, and the claims of those that carry them (by index into the sentences). */
export function findingsWithClaims(plan: Plan, report: Input): { findings: string[]; claims: FindingClaims[] } {
  const all = RULES.flatMap((rule) => rule({ plan, report }));
  const claims = all.flatMap((f, finding) => (typeof f === 'string' ? [] : [{ finding, rule: f.rule, host: f.host, peers: f.peers, claims: f.claims }]));
  return { findings: all.map(textOf), claims };
}

export function findings(plan: Plan, report: Input): string[] {
  return findingsWithClaims(plan, report).findings;
}
