#!/usr/bin/env node
// Recomputes the predictions and findings recorded in test/fixtures/reports/*.json with the rules of dist/ (npm run
// build first), after a deliberate change to a rule: then review `git diff test/fixtures/reports` sentence by sentence.
// Usage: node scripts/refresh-fixture-findings.js [fixture name ...]
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { findings } from '../dist/report/findings/index.js';
import { predict } from '../dist/report/predictions.js';

const dir = new URL('../test/fixtures/reports/', import.meta.url);
const names = process.argv.slice(2);
// A private directory: a predictable name in /tmp could be a symlink someone else planted.
const work = mkdtempSync(join(tmpdir(), 'refresh-fixture-'));
const tmp = join(work, 'report.json');
for (const f of readdirSync(dir).filter(
  (f) => f.endsWith('.json') && (!names.length || names.includes(f.slice(0, -5))),
)) {
  const file = new URL(f, dir);
  const report = JSON.parse(readFileSync(file, 'utf8'));
  report.predictions = predict(report.scenario.plan, report.hosts, report.actors);
  report.findings = findings(report.scenario.plan, report);
  writeFileSync(tmp, JSON.stringify(report));
  execFileSync(process.execPath, [new URL('shrink-fixture.js', import.meta.url).pathname, tmp, file.pathname]);
}
rmSync(work, { recursive: true, force: true });
