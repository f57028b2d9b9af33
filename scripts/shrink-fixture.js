#!/usr/bin/env node
// Makes a unit-test fixture of a run's report.json (test/fixtures/reports/README.md): each hosts.<h>.series keeps
// only `t` and `states.CLOSE_WAIT` (what src/report/findings/load-window.ts reads), and the JSON is written with a
// 1-space indent, objects and arrays of plain values on one line.
// Usage: node scripts/shrink-fixture.js <run dir>/report.json test/fixtures/reports/<name>.json
import { readFileSync, writeFileSync } from 'node:fs';

const [from, to] = process.argv.slice(2);
if (!from || !to) {
  process.stderr.write('usage: node scripts/shrink-fixture.js REPORT_JSON FIXTURE_JSON\n');
  process.exit(2);
}
const report = JSON.parse(readFileSync(from, 'utf8'));
for (const host of Object.values(report.hosts)) {
  const closeWait = host.series?.states?.CLOSE_WAIT;
  host.series = { t: host.series?.t ?? [], states: closeWait ? { CLOSE_WAIT: closeWait } : {} };
}

const plain = (v) => v === null || typeof v !== 'object';
function format(v, indent) {
  if (plain(v)) return JSON.stringify(v);
  const values = Array.isArray(v) ? v : Object.values(v);
  if (values.every(plain)) {
    return Array.isArray(v)
      ? `[${v.map((x) => JSON.stringify(x)).join(', ')}]`
      : `{${Object.entries(v)
          .map(([k, x]) => `${JSON.stringify(k)}: ${JSON.stringify(x)}`)
          .join(', ')}}`;
  }
  const pad = ' '.repeat(indent + 1);
  const items = Array.isArray(v)
    ? v.map((x) => pad + format(x, indent + 1))
    : Object.entries(v).map(([k, x]) => `${pad}${JSON.stringify(k)}: ${format(x, indent + 1)}`);
  const [open, close] = Array.isArray(v) ? ['[', ']'] : ['{', '}'];
  return items.length ? `${open}\n${items.join(',\n')}\n${' '.repeat(indent)}${close}` : `${open}${close}`;
}
writeFileSync(to, `${format(report, 0)}\n`);
