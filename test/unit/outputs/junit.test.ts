// junit.xml parsed by a well-kept XML parser, as CI reporters read it: the testcases, their failures and counts.
import { readFileSync } from 'node:fs';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { annotations } from '../../../src/cli/ci.ts';
import { renderJunit } from '../../../src/outputs/junit-xml.ts';
import { baselineOf, compareReports } from '../../../src/report/compare.ts';
import type { Report } from '../../../src/report/report.ts';
import { loadReportFixture } from '../fixture.ts';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name),
});
type Testcase = { classname: string; name: string; properties?: { property: { name: string; value: string }[] } };
/** A testcase's own property, as a CI tool reads it. */
const prop = (c: Testcase, name: string) => c.properties?.property.find((p) => p.name === name)?.value;
const load = (name: string) =>
  JSON.parse(
    readFileSync(new URL(`../../fixtures/compare/proxy-keepalive-upstream.${name}.json`, import.meta.url), 'utf8'),
  ) as Report;

function parse(xml: string) {
  expect(XMLValidator.validate(xml)).toBe(true);
  return parser.parse(xml).testsuites;
}

describe('junit.xml', () => {
  it('has a passing testcase per threshold of a passing run', () => {
    const report = loadReportFixture('short-conn');
    const doc = parse(renderJunit(report));
    const suite = doc.testsuite[0];
    expect(suite.name).toBe('waitlab.short-conn');
    expect(suite.testcase.map((c: Testcase) => prop(c, 'expression'))).toEqual(
      report.thresholds.map((t) => t.expression),
    );
    expect(suite.testcase.every((c: object) => !('failure' in c))).toBe(true);
    expect(Number(doc.tests)).toBe(report.thresholds.length);
    expect(Number(doc.failures)).toBe(0);
    expect(suite.properties.property.find((p: { name: string }) => p.name === 'kernel').value).toBe(
      report.environment.kernel,
    );
  });

  it('gives a failed threshold its measured value in the message and the findings in the body', () => {
    const report = loadReportFixture('short-conn--tw-reuse-1');
    const failed = report.thresholds.filter((t) => !t.ok);
    const suite = parse(renderJunit(report)).testsuite[0];
    const failures = suite.testcase.filter((c: object) => 'failure' in c);
    expect(failures.map((c: Testcase) => prop(c, 'expression'))).toEqual(failed.map((t) => t.expression));
    expect(failures[0].failure.message).toContain(`measured ${failed[0]!.value ?? 'absent'}`);
    expect(failures[0].failure['#text']).toContain(report.findings[0]!.slice(0, 40));
    expect(Number(suite.failures)).toBe(failed.length);
  });

  it('adds a testcase per compared metric, failing the regressions', () => {
    const worse = load('no-keepalive');
    const comparison = compareReports(baselineOf(load('base'), 'base'), worse, 'worse');
    const suite = parse(renderJunit({ ...worse, comparison })).testsuite[0];
    const cases = suite.testcase.filter((c: Testcase) =>
      c.classname.startsWith('waitlab.proxy-keepalive-upstream.regressions.'),
    );
    expect(cases).toHaveLength(comparison.metrics.length);
    const failing = cases
      .filter((c: object) => 'failure' in c)
      .map((c: Testcase) => prop(c, 'path'))
      .sort();
    expect(failing).toEqual(
      comparison.metrics
        .filter((m) => m.verdict === 'regression')
        .map((m) => m.path)
        .sort(),
    );
  });

  it('names each case by the registry (owner: label (unit)) and keeps its report path in the classname and a property', () => {
    const report = loadReportFixture('short-conn');
    const suite = parse(renderJunit(report)).testsuite[0];
    expect(suite.testcase.map((c: Testcase) => c.name)).toEqual([
      'flood: errors by code EADDRNOTAVAIL (errors) > 0',
      'flood: exhaustion, measured over predicted (measured / predicted) >= 0.8',
      'flood: exhaustion, measured over predicted (measured / predicted) <= 1.2',
      'flood: TIME_WAIT peak over the port budget (of the budget) >= 0.98',
      'flood: TIME_WAIT peak over the port budget (of the budget) <= 1.02',
      'server: peak TIME_WAIT (sockets) == 0',
    ]);
    const paths = report.thresholds.map((t) => t.expression.split(' ')[0]);
    expect(suite.testcase.map((c: Testcase) => prop(c, 'path'))).toEqual(paths);
    expect(suite.testcase.map((c: Testcase) => c.classname)).toEqual(
      paths.map((p) => `waitlab.short-conn.thresholds.${p}`),
    );

    const worse = load('no-keepalive');
    const comparison = compareReports(baselineOf(load('base'), 'base'), worse, 'worse');
    const compared = parse(renderJunit({ ...worse, thresholds: [], comparison })).testsuite[0].testcase as Testcase[];
    const byPath = (path: string) => compared.find((c) => prop(c, 'path') === path);
    expect(byPath('hosts.proxy.peak.total.TIME_WAIT')).toMatchObject({
      name: 'proxy: peak TIME_WAIT (sockets)',
      classname: 'waitlab.proxy-keepalive-upstream.regressions.hosts.proxy.peak.total.TIME_WAIT',
    });
    expect(byPath('hosts.proxy.perRequest.connectionsOpened')?.name).toBe(
      'proxy: connections opened per request (connections per request)',
    );
  });

  it('keeps an expression no metric names as the case name', () => {
    const report = loadReportFixture('short-conn');
    const odd = {
      ...report,
      thresholds: [{ expression: 'no such thing', value: null, ok: false, reason: 'metric missing from the report' }],
    };
    const [only] = parse(renderJunit(odd)).testsuite[0].testcase as Testcase[];
    expect(only).toMatchObject({ name: 'no such thing', classname: 'waitlab.short-conn.thresholds' });
  });

  it('escapes what XML cannot hold as text, and records a run that ended in an error', () => {
    const report = loadReportFixture('short-conn');
    const odd = {
      ...report,
      findings: ['a <b> & "c" \u0001 end'],
      error: 'agent on host <x> died',
      errorCode: 'WAITLAB_AGENT' as const,
    };
    const suite = parse(renderJunit(odd)).testsuite[0];
    expect(suite['system-out']).toBe('a <b> & "c" \uFFFD end');
    const run = suite.testcase.find((c: { name: string }) => c.name === 'run');
    expect(run.error).toMatchObject({ type: 'WAITLAB_AGENT', message: 'agent on host <x> died' });
    expect(Number(suite.errors)).toBe(1);
  });
});

describe('GitHub annotations', () => {
  it('one ::error per failed threshold and per regression, escaped as workflow commands read them', () => {
    const report = loadReportFixture('short-conn--tw-reuse-1');
    const lines = annotations(report);
    expect(lines).toHaveLength(report.thresholds.filter((t) => !t.ok).length);
    expect(lines[0]).toMatch(/^::error title=waitlab short-conn%3A threshold failed::/);
    const worse = load('no-keepalive');
    const comparison = compareReports(baselineOf(load('base'), 'base'), worse, 'worse');
    const withRegressions = annotations({ ...worse, thresholds: [] }, comparison);
    expect(withRegressions.filter((l) => l.startsWith('::error'))).toHaveLength(comparison.regressions);
    expect(withRegressions.filter((l) => l.startsWith('::warning'))).toEqual([
      '::warning title=waitlab proxy-keepalive-upstream%3A comparison::different parameters: keepAlive 16 -> 0',
    ]);
  });
});
