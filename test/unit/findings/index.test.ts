// The fixtures against the rules as a whole: findings() over each shrunk fixture says exactly what the run
// itself said (report.findings), so shrinking the fixtures took nothing a rule reads.
import { describe, expect, it } from 'vitest';
import { findings } from '../../../src/report/findings/index.ts';
import { loadReportFixture, reportFixtureNames } from '../fixture.ts';

describe('findings()', () => {
  it('has a fixture for every catalogue scenario', () => {
    const names = reportFixtureNames();
    expect(names.length).toBeGreaterThanOrEqual(18);
    for (const scenario of [
      'short-conn',
      'keepalive-vs-close',
      'server-close',
      'close-wait-leak',
      'rst-close',
      'bind-before-connect',
      'address-in-use-restart',
      'fixed-local-port',
      'tw-bucket-overflow',
      'fin-wait-2',
      'nat-single-source',
      'listen-backlog',
      'fd-limit',
      'reset-and-broken-pipe',
      'proxy-short-upstream',
      'proxy-keepalive-upstream',
      'haproxy-short-upstream',
      'haproxy-keepalive-upstream',
    ]) {
      expect(names).toContain(scenario);
    }
  });

  it.each(reportFixtureNames())('%s: reproduces the findings the run recorded', (name) => {
    const report = loadReportFixture(name);
    expect(report.findings.length).toBeGreaterThan(0);
    expect(findings(report.scenario.plan, report)).toEqual(report.findings);
  });
});
