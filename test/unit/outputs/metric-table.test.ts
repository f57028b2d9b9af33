// The README's metric table is the registry's: generated, never a hand copy.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { METRICS } from '../../../src/core/metric-registry.ts';
import {
  METRIC_TABLE_COMMAND,
  METRIC_TABLE_END,
  METRIC_TABLE_START,
  metricTable,
  withMetricTable,
} from '../../../src/outputs/metric-table.ts';

const README = new URL('../../../README.md', import.meta.url);

describe('metric table', () => {
  it('has a row per registry metric with its path, unit, kind, worse direction and default tolerance', () => {
    const rows = metricTable().split('\n').slice(2);
    expect(rows).toHaveLength(METRICS.length);
    expect(rows).toContain(
      '| `hosts.{host}.peak.total.TIME_WAIT` | sockets | peak | rise | +20%, slack 5 | peak TIME_WAIT |',
    );
    expect(rows).toContain('| `actors.{actor}.ok` | requests | count | fall | -10% | successes |');
    expect(rows).toContain(
      '| `hosts.{host}.perRequest.timeWaitEntered` | sockets per request | ratio | rise | +20%, slack 0.05 | TIME_WAIT entered per request (derived for compare; not in report.json) |',
    );
  });

  it('is what README.md holds between its markers', () => {
    const readme = readFileSync(README, 'utf8');
    const inside = readme
      .slice(readme.indexOf(METRIC_TABLE_START) + METRIC_TABLE_START.length, readme.indexOf(METRIC_TABLE_END))
      .trim();
    expect(inside, `README.md's metric table differs from the registry's: run \`${METRIC_TABLE_COMMAND}\``).toBe(
      metricTable(),
    );
    expect(withMetricTable(readme)).toBe(readme);
  });

  it('refuses a README without the markers', () => {
    expect(() => withMetricTable('# no table here')).toThrow(/metrics:start/);
  });
});
