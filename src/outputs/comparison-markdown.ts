// compare.md and the terminal table of `waitlab compare`: the comparison on its own, outside a run's summary.
import type { Comparison } from '../report/comparison.ts';
import { comparisonSections } from './comparison-sections.ts';
import { sectionsMarkdown, sectionsText } from './sections.ts';

export const comparisonHeader = (c: Comparison) => [
  `${c.current.scenario}: ${c.verdict === 'pass' ? 'no regression' : `${c.regressions} regression${c.regressions === 1 ? '' : 's'}`}`,
  `baseline ${c.baseline.label}; current ${c.current.label}`,
];

export const comparisonMarkdown = (c: Comparison): string =>
  sectionsMarkdown(comparisonHeader(c), comparisonSections(c));
export const comparisonText = (c: Comparison): string => sectionsText(comparisonHeader(c), comparisonSections(c));
