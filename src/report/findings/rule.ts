// A finding rule reads the plan and the report (never the code's expectations) and returns sentences.
import type { Plan } from '../../core/plan.ts';
import type { Report } from '../report.ts';

export interface FindingInput {
  plan: Plan;
  report: Pick<Report, 'hosts' | 'actors' | 'predictions' | 'durationMs'>;
}

export type FindingRule = (input: FindingInput) => string[];
