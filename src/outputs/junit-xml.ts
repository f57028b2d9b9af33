// junit.xml: what CI systems read (Jenkins, GitLab, GitHub test reporters). One testsuite per run: a testcase
// per threshold and per metric compared with a baseline, each failure with the measured value, the limit and
// the findings; a run that ended in an error is one more testcase with an <error>. A case is named by the metric
// registry ("client: peak TIME_WAIT (sockets) <= 1000"); its report path ends its classname and is a property
// of its own, so a CI tool that looked a case up by path still finds it.
import { hostname } from 'node:os';
import { metricTitle } from '../core/metric-paths.ts';
import { parseThreshold, type ThresholdResult } from '../core/thresholds.ts';
import type { MetricComparison } from '../report/comparison.ts';
import type { Report } from '../report/report.ts';
import type { Output } from './output.ts';
import { numberText } from '../core/number-text.ts';

/** XML 1.0 allows neither most control characters nor unpaired surrogates, escaped or not. */
const INVALID_XML = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function xmlEscape(text: string): string {
  return text
    .replace(INVALID_XML, '\uFFFD')
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

interface Case {
  classname: string;
  name: string;
  properties?: Record<string, string>;
  failure?: { type: string; message: string; detail: string };
  error?: { type: string; message: string };
}

const num = (v: number | null) => (v === null ? 'absent' : numberText(v, 3));

function comparisonCase(suite: string, m: MetricComparison): Case {
  const failed = m.verdict === 'regression' || m.verdict === 'missing';
  return {
    classname: `${suite}.regressions.${m.path}`,
    name: metricTitle(m.path) ?? m.path,
    properties: { path: m.path },
    ...(failed
      ? {
          failure: {
            type: m.verdict,
            message:
              m.verdict === 'missing'
                ? `${m.path} is absent from this run; the baseline had ${num(m.baseline)}`
                : `${m.path} ${num(m.current)} against baseline ${num(m.baseline)} (ratio ${num(m.ratio)}), beyond the tolerance ${m.tolerance} (${m.kind})`,
            detail: '',
          },
        }
      : {}),
  };
}

/** A threshold's case: named by its metric, its path in the classname; an expression no metric names keeps its own text. */
function thresholdCase(suite: string, t: ThresholdResult, findings: string): Case {
  let parsed: ReturnType<typeof parseThreshold> | undefined;
  try {
    parsed = parseThreshold(t.expression);
  } catch {
    // A report read from disk may carry an expression this version would not take: it is still a case.
  }
  const title = parsed && metricTitle(parsed.path);
  return {
    classname: parsed ? `${suite}.thresholds.${parsed.path}` : `${suite}.thresholds`,
    name: parsed && title ? `${title} ${parsed.op} ${parsed.target}` : t.expression,
    properties: { ...(parsed ? { path: parsed.path } : {}), expression: t.expression },
    ...(t.ok
      ? {}
      : {
          failure: {
            type: 'threshold',
            message: `${t.expression}: measured ${num(t.value)}${t.reason ? ` (${t.reason})` : ''}`,
            detail: findings,
          },
        }),
  };
}

export function renderJunit(report: Report): string {
  const suite = `waitlab.${report.scenario.name}`;
  const findings = report.findings.join('\n');
  const cases: Case[] = report.thresholds.map((t) => thresholdCase(suite, t, findings));
  for (const m of report.comparison?.metrics ?? []) cases.push(comparisonCase(suite, m));
  if (report.error)
    cases.push({
      classname: suite,
      name: 'run',
      error: { type: report.errorCode ?? 'WAITLAB_INTERNAL', message: report.error },
    });

  const failures = cases.filter((c) => c.failure).length;
  const errors = cases.filter((c) => c.error).length;
  const seconds = (report.durationMs / 1000).toFixed(3);
  const counts = `tests="${cases.length}" failures="${failures}" errors="${errors}" skipped="0"`;
  const props = {
    verdict: report.verdict,
    kernel: report.environment.kernel,
    node: report.environment.node,
    driver: report.environment.driver,
    privilege: report.environment.privilege,
    ...(report.comparison ? { baseline: report.comparison.baseline.label, comparison: report.comparison.verdict } : {}),
  };
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="waitlab" ${counts} time="${seconds}">`,
    `  <testsuite name="${xmlEscape(suite)}" ${counts} time="${seconds}" timestamp="${xmlEscape(report.startedAt.replace(/\.\d+Z$/, ''))}" hostname="${xmlEscape(hostname())}">`,
    '    <properties>',
    ...Object.entries(props).map(([k, v]) => `      <property name="${k}" value="${xmlEscape(String(v))}"/>`),
    '    </properties>',
  ];
  for (const c of cases) {
    const open = `    <testcase classname="${xmlEscape(c.classname)}" name="${xmlEscape(c.name)}" time="0"`;
    const props = Object.entries(c.properties ?? {});
    const body = props.length
      ? [
          '      <properties>',
          ...props.map(([k, v]) => `        <property name="${k}" value="${xmlEscape(v)}"/>`),
          '      </properties>',
        ]
      : [];
    if (c.failure) {
      out.push(
        `${open}>`,
        ...body,
        `      <failure type="${xmlEscape(c.failure.type)}" message="${xmlEscape(c.failure.message)}">${xmlEscape(c.failure.detail)}</failure>`,
        '    </testcase>',
      );
    } else if (c.error) {
      out.push(
        `${open}>`,
        ...body,
        `      <error type="${xmlEscape(c.error.type)}" message="${xmlEscape(c.error.message)}"/>`,
        '    </testcase>',
      );
    } else if (body.length) out.push(`${open}>`, ...body, '    </testcase>');
    else out.push(`${open}/>`);
  }
  out.push(`    <system-out>${xmlEscape(findings)}</system-out>`, '  </testsuite>', '</testsuites>', '');
  return out.join('\n');
}

export const junitXml: Output = {
  name: 'junit',
  file: 'junit.xml',
  describe: 'JUnit XML for CI test reporters: a testcase per threshold and per metric compared with a baseline',
  write: (report) => renderJunit(report),
};
