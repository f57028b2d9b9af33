// junit.xml parsed by a well-kept XML parser, as CI reporters read it: the testcases, their failures and counts.
import { readFileSync } from 'node:fs';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { annotations } from '../../../src/cli/ci.ts';
import { renderJunit } from '../../../src/outputs/junit-xml.ts';
import { baselineOf, compareReports } from '../../../src/report/compare.ts';
import type { Report } from '../../../src/report/report.ts';
import { loadReportFixture } from '../fixture.ts';

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name) });
const load = (name: string) => JSON.parse(readFileSync(new URL(`../../fixtures/compare/proxy-keepalive-upstream.${name}.json`, import.meta.url), 'utf8')) as Report;

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
    expect(suite.testcase.map((c: { name: string }) => c.name)).toEqual(report.thresholds.map((t) => t.expression));
    expect(suite.testcase.every((c: object) => !('failure' in c))).toBe(true);
    expect(Number(doc.tests)).toBe(report.thresholds.length);
    expect(Number(doc.failures)).toBe(0);
    expect(suite.properties.property.find((p: { name: string }) => p.name === 'kernel').value).toBe(report.environment.kernel);
  });

  it('gives a failed threshold its measured value in the message and the findings in the body', () => {
    const report = loadReportFixture('short-conn--tw-reuse-1');
    const failed = report.thresholds.filter((t) => !t.ok);
    const suite = parse(renderJunit(report)).testsuite[0];
    const failures = suite.testcase.filter((c: object) => 'failure' in c);
    expect(failures.map((c: { name: string }) => c.name)).toEqual(failed.map((t) => t.expression));
    expect(failures[0].failure.message).toContain(`measured ${failed[0]!.value ?? 'absent'}`);
    expect(failures[0].failure['#text']).toContain(report.findings[0]!.slice(0, 40));
    expect(Number(suite.failures)).toBe(failed.length);
  });

  it('adds a testcase per compared metric, failing the regressions', () => {
    const worse = load('no-keepalive');
    const comparison = compareReports(baselineOf(load('base'), 'base'), worse, 'worse');
    const suite = parse(renderJunit({ ...worse, comparison })).testsuite[0];
    const cases = suite.testcase.filter((c: { classname: string }) => c.classname === 'waitlab.proxy-keepalive-upstream.regressions');
    expect(cases).toHaveLength(comparison.metrics.length);
    const failing = cases.filter((c: object) => 'failure' in c).map((c: { name: string }) => c.name).sort();
    expect(failing).toEqual(comparison.metrics.filter((m) => m.verdict === 'regression').map((m) => m.path).sort());
  });

  it('escapes what XML cannot hold as text, and records a run that ended in an error', () => {
    const report = loadReportFixture('short-conn');
    const odd = { ...report, findings: ['a <b> & "c" \u0001 end'], error: 'agent on host <x> died', errorCode: 'WAITLAB_AGENT' as const };
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
    expect(withRegressions.filter((l) => l.startsWith('::warning'))).toEqual(['::warning title=waitlab proxy-keepalive-upstream%3A comparison::different parameters: keepAlive 16 -> 0']);
  });
});
