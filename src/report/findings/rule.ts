// A finding rule reads the plan and the report (never the code's expectations) and returns findings: typed
// claims with their words (claims/claim.ts), or, for a rule not yet converted, a sentence alone.
import type { Plan } from '../../core/plan.ts';
import type { Finding } from '../claims/claim.ts';
import type { Report } from '../report.ts';

export interface FindingInput {
  plan: Plan;
  report: Pick<Report, 'hosts' | 'actors' | 'predictions' | 'durationMs'> & Partial<Pick<Report, 'captures'>>;
}

export type FindingRule = (input: FindingInput) => (string | Finding)[];

/** A finding's sentence, whichever form the rule returned. */
export const textOf = (f: string | Finding) => (typeof f === 'string' ? f : f.text);
