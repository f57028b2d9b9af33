// Findings: what happened, on which host, by which mechanism, and what would change it, as typed claims and the
// sentences written from them. One file per mechanism, listed here in the order the summary shows them.
import type { Plan } from '../../core/plan.ts';
import type { Report } from '../report.ts';
import { addressInUseFindings } from './address-in-use.ts';
import { bindBeforeConnectFindings } from './bind-before-connect.ts';
import { closeWaitFindings } from './close-wait.ts';
import { dualStackFindings } from './dual-stack.ts';
import { conntrackFindings } from './conntrack.ts';
import { counterFindings } from './counters.ts';
import { fdLimitFindings } from './fd-limit.ts';
import { fixedLocalPortFindings } from './fixed-local-port.ts';
import { finWait2Findings } from './fin-wait-2.ts';
import { keepAliveFindings } from './keep-alive.ts';
import { keepaliveRaceFindings } from './keepalive-race.ts';
import { listenBacklogFindings } from './listen-backlog.ts';
import { loadErrorFindings } from './load-errors.ts';
import { natInsertRaceFindings } from './nat-insert-race.ts';
import { natSingleSourceFindings } from './nat-single-source.ts';
import { poolSmallerThanLoadFindings } from './pool-smaller-than-load.ts';
import { packetFindings } from './packets.ts';
import { proxyUpstreamFindings } from './proxy-upstream.ts';
import { resetFindings } from './resets.ts';
import { serverLossFindings } from './server-losses.ts';
import type { FindingClaims } from '../claims/claim.ts';
import type { FindingRule } from './rule.ts';
import { timeWaitFindings } from './time-wait.ts';
import { timeWaitTakeoverFindings } from './time-wait-takeover.ts';
import { twOverflowFindings } from './tw-overflow.ts';

const RULES: readonly FindingRule[] = [
  timeWaitFindings,
  timeWaitTakeoverFindings,
  twOverflowFindings,
  loadErrorFindings,
  serverLossFindings,
  proxyUpstreamFindings,
  poolSmallerThanLoadFindings,
  keepaliveRaceFindings,
  bindBeforeConnectFindings,
  dualStackFindings,
  fdLimitFindings,
  listenBacklogFindings,
  addressInUseFindings,
  fixedLocalPortFindings,
  natSingleSourceFindings,
  conntrackFindings,
  natInsertRaceFindings,
  closeWaitFindings,
  finWait2Findings,
  resetFindings,
  packetFindings,
  keepAliveFindings,
  counterFindings,
];

type Input = Pick<Report, 'hosts' | 'actors' | 'predictions' | 'durationMs'> & Partial<Pick<Report, 'captures'>>;

/** Every finding's sentence, and its claims (by index into the sentences). */
export function findingsWithClaims(plan: Plan, report: Input): { findings: string[]; claims: FindingClaims[] } {
  const all = RULES.flatMap((rule) => rule({ plan, report }));
  return {
    findings: all.map((f) => f.text),
    claims: all.map((f, finding) => ({ finding, rule: f.rule, host: f.host, peers: f.peers, claims: f.claims })),
  };
}

export function findings(plan: Plan, report: Input): string[] {
  return findingsWithClaims(plan, report).findings;
}
