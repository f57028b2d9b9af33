// A finding rule reads the plan and the report (never the code's expectations) and returns findings: typed
// claims (claims/claim.ts), each value read from the evidence it names, and the words written from them.
import type { Plan } from '../../core/plan.ts';
import type { Finding } from '../claims/claim.ts';
import type { Report } from '../report.ts';

export interface FindingInput {
  plan: Plan;
  report: Pick<Report, 'hosts' | 'actors' | 'predictions' | 'durationMs'> & Partial<Pick<Report, 'captures'>>;
}

export type FindingRule = (input: FindingInput) => Finding[];
