// The JSON Schemas the package ships (waitlab/schema/report.json and scenario.json), checked by a validator that
// is not ours (Ajv, draft 2020-12) against what the code itself accepts: every fixture report that readReport()
// reads, every catalogue scenario's build() with its defaults; and refusing what the code refuses.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { resolveFields } from '../../src/core/fields.ts';
import { scenarioJsonSchema } from '../../src/plan/scenario-schema.ts';
import { listScenarioNames, loadScenario } from '../../src/plan/scenario-file.ts';
import { readReport } from '../../src/report/report-file.ts';
import { reportJsonSchema } from '../../src/report/report-schema.ts';

const REPORTS = 'test/fixtures/reports';
const ajv = new Ajv2020({ allErrors: false, strict: false });
const validReport = ajv.compile(reportJsonSchema());
const validScenario = ajv.compile(scenarioJsonSchema());

const fixture = (name: string) => JSON.parse(readFileSync(join(REPORTS, name), 'utf8')) as Record<string, any>;
const fixtures = readdirSync(REPORTS).filter((f) => f.endsWith('.json'));

describe('schema/report.json', () => {
  it.each(fixtures)('accepts %s, which readReport() reads', (name) => {
    expect(() => readReport(join(REPORTS, name))).not.toThrow();
    expect(validReport(fixture(name)), JSON.stringify(validReport.errors)).toBe(true);
  });

  it('refuses what readReport() refuses, at the same field', () => {
    const report = fixture('short-conn.json');
    const host = Object.keys(report['hosts'])[0]!;
    report['hosts'][host].peak = null;
    expect(validReport(report)).toBe(false);
    expect(validReport.errors![0]!.instancePath).toBe(`/hosts/${host}/peak`);
    const verdict = { ...fixture('short-conn.json'), verdict: 'maybe' };
    expect(validReport(verdict)).toBe(false);
    expect(validReport.errors![0]!.instancePath).toBe('/verdict');
    const { findings: _, ...lacking } = fixture('short-conn.json');
    expect(validReport(lacking)).toBe(false);
    expect(validReport.errors![0]!.params).toEqual({ missingProperty: 'findings' });
  });

  it('accepts a report of a newer minor that carries a field this one does not know', () => {
    expect(validReport({ ...fixture('short-conn.json'), schemaMinor: 9, aFieldOfLater: { x: 1 } })).toBe(true);
  });
});

describe('schema/scenario.json', () => {
  it.each(listScenarioNames())('accepts what %s builds with its defaults', async (name) => {
    const { definition } = await loadScenario(name);
    const problems: string[] = [];
    const params = resolveFields(definition.params, {}, 'param', problems);
    expect(problems).toEqual([]);
    const spec = definition.build(params);
    expect(validScenario(JSON.parse(JSON.stringify(spec))), JSON.stringify(validScenario.errors)).toBe(true);
  });

  const spec = (flood: Record<string, unknown>) => ({
    hosts: { client: {}, server: {} },
    actors: {
      web: { kind: 'http-server', host: 'server' },
      flood: { kind: 'short-conn-client', host: 'client', target: 'web', ...flood },
    },
  });

  it('accepts each unit in its written forms', () => {
    expect(validScenario(spec({ rate: '300/s', duration: '5s', idleTimeout: 2000, localAddress: '198.18.0.1' }))).toBe(
      true,
    );
  });

  it('refuses a misspelt option, a malformed unit, a missing target and an unknown kind', () => {
    expect(validScenario(spec({ rat: '300/s' }))).toBe(false);
    expect(validScenario(spec({ duration: '5 seconds' }))).toBe(false);
    const { target: _, ...noTarget } = spec({}).actors.flood;
    expect(validScenario({ ...spec({}), actors: { flood: noTarget } })).toBe(false);
    expect(validScenario({ ...spec({}), actors: { web: { kind: 'http-servr', host: 'server' } } })).toBe(false);
    expect(validScenario({ ...spec({}), hosts: { client: { sysctl: {} } } })).toBe(false);
  });
});
