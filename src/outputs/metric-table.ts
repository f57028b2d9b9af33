// The README's metric table, made from the metric registry (core/metric-registry.ts) so the docs cannot drift
// from what thresholds, compare and baselines read. `node scripts/metric-table.js --write` puts it between the
// README's markers; a unit test fails when the README holds another table.
import { METRICS, defaultTolerance, type MetricDef } from '../core/metric-registry.ts';
import { markdownInline } from './markdown-escape.ts';

export const METRIC_TABLE_START = '<!-- metrics:start -->';
export const METRIC_TABLE_END = '<!-- metrics:end -->';
export const METRIC_TABLE_COMMAND = 'npm run -s build && node scripts/metric-table.js --write';

function tolerance(def: MetricDef): string {
  const t = defaultTolerance(def);
  if (!t) return def.baseline ? 'none (kept in a baseline; compared where a tolerance names it)' : 'none';
  return def.slack ? `${t}, slack ${def.slack}` : t;
}

/** Every declared metric as a Markdown table: path, unit, kind, worse direction, default tolerance, what it is. */
export function metricTable(): string {
  const rows = METRICS.map((def) => [
    `\`${def.path}\``,
    markdownInline(def.unit),
    def.kind,
    def.worse,
    markdownInline(tolerance(def)),
    markdownInline(def.label) + (def.derived ? ' (derived for compare; not in report.json)' : ''),
  ]);
  const head = ['path', 'unit', 'kind', 'worse', 'default tolerance', 'what it is'];
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** `readme` with the table between its markers replaced by `table`; throws where the markers are missing. */
export function withMetricTable(readme: string, table = metricTable()): string {
  const start = readme.indexOf(METRIC_TABLE_START);
  const end = readme.indexOf(METRIC_TABLE_END);
  if (start < 0 || end < start)
    throw new Error(`README.md has no ${METRIC_TABLE_START} ... ${METRIC_TABLE_END} markers`);
  return `${readme.slice(0, start + METRIC_TABLE_START.length)}\n${table}\n${readme.slice(end)}`;
}
