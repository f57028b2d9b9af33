// report.json's shape (src/report/report-shape.ts) against every report the project has: each fixture of a real
// run and a report made fresh by the code from a real run's samples. A shape that refused one of them would
// refuse what waitlab writes; the compiler checks it against the types (core/shape.ts: objectOf).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rebuildReport } from '../../src/controller/rebuild-report.ts';
import { PACKAGE_VERSION } from '../../src/core/paths.ts';
import { REPORT_SHAPE } from '../../src/report/report-shape.ts';
import { loadReportFixture, reportFixtureNames } from './fixture.ts';

const FIXTURES = new URL('../fixtures/', import.meta.url);

describe('the report shape', () => {
  it.each(reportFixtureNames())('accepts the fixture report %s', (name) => {
    expect(REPORT_SHAPE.problem(loadReportFixture(name), '')).toBeUndefined();
  });

  it.each(['runs/short-conn.report.json', ...readdirSync(new URL('compare/', FIXTURES)).map((f) => `compare/${f}`)])(
    'accepts the unshrunk report %s',
    (file) => {
      expect(REPORT_SHAPE.problem(JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8')), '')).toBeUndefined();
    },
  );

  it('accepts a report the code makes fresh from a real run (rebuilt from its samples.ndjson and plan)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'waitlab-shape-'));
    try {
      const run = JSON.parse(readFileSync(new URL('runs/short-conn.report.json', FIXTURES), 'utf8'));
      writeFileSync(
        join(dir, 'log.ndjson'),
        `${JSON.stringify({ msg: 'run starting', time: Date.parse(run.startedAt), plan: run.scenario.plan })}\n`,
      );
      writeFileSync(join(dir, 'samples.ndjson'), readFileSync(new URL('runs/short-conn.samples.ndjson', FIXTURES)));
      const { report } = rebuildReport(dir);
      expect(REPORT_SHAPE.problem(JSON.parse(JSON.stringify(report)), '')).toBeUndefined();
      // The version of waitlab that made it, beside the kernel and node it ran on; older reports have none (the fixtures).
      expect(report.environment.waitlab).toBe(PACKAGE_VERSION);
      expect(REPORT_SHAPE.problem({ ...report, environment: { ...report.environment, waitlab: 1 } }, '')).toBe(
        'environment.waitlab: expected a string, got a number',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
