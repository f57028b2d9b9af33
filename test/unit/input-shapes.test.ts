// Files a command reads (report.json, baseline.json, log.ndjson, a profile) are checked against their shape
// before use (issue 20, defects 4 and 5): a wrong type is a usage error naming the file and the field (exit 2),
// never a stack trace (exit 4); a baseline that compares nothing fails the gate; and a `report` that fails
// leaves the run directory as it was.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { exitCodeFor } from '../../src/cli/exit-codes.ts';
import { main } from '../../src/cli/main.ts';
import { writeOutputs } from '../../src/outputs/registry.ts';
import type { Output } from '../../src/outputs/output.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { loadReportFixture } from './fixture.ts';

const RUN = new URL('../fixtures/runs/', import.meta.url);
const BASELINE = new URL('../../baselines/short-conn/baseline.json', import.meta.url);

/** A fresh copy of the unshrunk report.json of a real short-conn run. */
const realReport = (): Record<string, any> => JSON.parse(readFileSync(new URL('short-conn.report.json', RUN), 'utf8'));
const realBaseline = (): Record<string, any> => JSON.parse(readFileSync(BASELINE, 'utf8'));

/** Runs `waitlab ...` in this process: its exit code and what it wrote on stderr. */
async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    return { code: await main(args), stderr };
  } catch (e) {
    return { code: exitCodeFor(e), stderr: `${stderr}${(e as Error).message}` };
  } finally {
    err.mockRestore();
    out.mockRestore();
  }
}

/** Every file of `dir` with its content. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((f) => [f, readFileSync(join(dir, f), 'utf8')]),
  );
}

/** A run directory holding `report` as report.json (text as given where a string). */
function runDir(report: unknown): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'report.json'), typeof report === 'string' ? report : JSON.stringify(report));
  return dir;
}

describe('report on a report.json of the wrong shape', () => {
  const cases: [string, (r: Record<string, any>) => void, string][] = [
    ['hosts: "x"', (r) => (r.hosts = 'x'), 'hosts: expected an object, got a string'],
    ["a host's peak: null", (r) => (r.hosts.client.peak = null), 'hosts.client.peak: expected an object, got null'],
    ['environment: null', (r) => (r.environment = null), 'environment: expected an object, got null'],
    ['findings: null', (r) => (r.findings = null), 'findings: expected an array, got null'],
    ['a numeric startedAt', (r) => (r.startedAt = 1700000000000), 'startedAt: expected a string, got a number'],
    [
      'a numeric verdict',
      (r) => (r.verdict = 1),
      'verdict: expected one of "pass", "fail", "interrupted", "error", got a number',
    ],
    [
      'an errors entry without syscalls',
      (r) => delete r.actors.flood.errors.EADDRNOTAVAIL.syscalls,
      'actors.flood.errors.EADDRNOTAVAIL.syscalls: missing (expected an object)',
    ],
    [
      'a host named constructor',
      (r) => Object.defineProperty(r.hosts, 'constructor', { value: r.hosts.client, enumerable: true }),
      'hosts: "constructor" is a name every object inherits',
    ],
  ];
  it.each(cases)('%s exits 2 naming the field, and leaves the directory as it was', async (_, mutate, message) => {
    const report = realReport();
    mutate(report);
    const dir = runDir(report);
    const before = snapshot(dir);
    const r = await cli(['report', dir]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${join(dir, 'report.json')}: ${message}`);
    expect(snapshot(dir)).toEqual(before);
  });

  it('a 200,000-deep array exits 2 (it overflowed the stack: RangeError, exit 4)', async () => {
    const text = JSON.stringify(realReport()).replace(
      '"params":{',
      `"params":{"deep":${'['.repeat(200_000)}${']'.repeat(200_000)},`,
    );
    const r = await cli(['report', runDir(text)]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('scenario.plan.params.deep: nests deeper than 64 levels');
  });

  it('a real report still re-renders (exit 0), its older plan without `regressions` read as none', async () => {
    const dir = runDir(realReport());
    const r = await cli(['report', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['junit.xml', 'report.html', 'report.json', 'summary.md']);
  });
});

describe('a run killed before its report, rebuilt from a log.ndjson of the wrong shape', () => {
  it('{"msg":"run starting","plan":{}} exits 2 naming the field (it was a TypeError, exit 4)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'log.ndjson'), `${JSON.stringify({ msg: 'run starting', plan: {} })}\n`);
    writeFileSync(join(dir, 'samples.ndjson'), readFileSync(new URL('short-conn.samples.ndjson', RUN)));
    const before = snapshot(dir);
    const r = await cli(['report', dir]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(
      `${join(dir, 'log.ndjson')}: its "run starting" line: plan.schemaVersion: missing (expected 1)`,
    );
    expect(snapshot(dir)).toEqual(before);
  });

  it('a "lab built" line whose hosts is a string exits 2 naming the field', async () => {
    const dir = tempDir();
    const plan = realReport().scenario.plan;
    writeFileSync(
      join(dir, 'log.ndjson'),
      [
        { msg: 'run starting', time: 1, plan },
        { msg: 'lab built', lab: 'wl1n1', hosts: 'x' },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n'),
    );
    writeFileSync(join(dir, 'samples.ndjson'), readFileSync(new URL('short-conn.samples.ndjson', RUN)));
    const r = await cli(['report', dir]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('its "lab built" line: hosts: expected an object, got a string');
  });
});

describe('compare on files of the wrong shape', () => {
  it('a baseline with identity.params: null exits 2 naming the field (it was a TypeError, exit 4)', async () => {
    const baseline = realBaseline();
    baseline.identity.params = null;
    const file = join(tempDir(), 'baseline.json');
    writeFileSync(file, JSON.stringify(baseline));
    const r = await cli(['compare', file, runDir(realReport())]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${file}: identity.params: expected an object, got null`);
  });

  it('a baseline with runs: "abc" exits 2 naming the field, and compare --out writes nothing', async () => {
    const baseline = realBaseline();
    baseline.runs = 'abc';
    const file = join(tempDir(), 'baseline.json');
    writeFileSync(file, JSON.stringify(baseline));
    const out = join(tempDir(), 'cmp');
    const r = await cli(['compare', file, runDir(realReport()), '--out', out]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${file}: runs: expected an array, got a string`);
  });
});

describe('a baseline that compares nothing fails the gate (defect 5)', () => {
  const corrupt: [string, unknown, string][] = [
    ['"abc"', 'abc', 'metrics: expected an object, got a string'],
    ['[1,2]', [1, 2], 'metrics: expected an object, got an array'],
    ['{}', {}, 'metrics: empty: a baseline that compares nothing would pass every run'],
    ['{"foo":1}', { foo: 1 }, 'metrics: none of its 1 metrics is one a comparison looks at'],
    [
      '{"hosts.client.peak.total.TIME_WAIT":"x"}',
      { 'hosts.client.peak.total.TIME_WAIT': 'x' },
      'metrics."hosts.client.peak.total.TIME_WAIT": expected a number, got a string',
    ],
  ];
  it.each(corrupt)(
    'compare with "metrics": %s exits 2 naming why (it said "PASS ... of 0 compared", exit 0)',
    async (_, metrics, message) => {
      const baseline = realBaseline();
      baseline.metrics = metrics;
      const file = join(tempDir(), 'baseline.json');
      writeFileSync(file, JSON.stringify(baseline));
      const r = await cli(['compare', file, runDir(realReport())]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`${file}: ${message}`);
    },
  );

  it.each(corrupt)('scenario --baseline with "metrics": %s exits 2 before any lab', async (_, metrics, message) => {
    const baseline = realBaseline();
    baseline.metrics = metrics;
    const file = join(tempDir(), 'baseline.json');
    writeFileSync(file, JSON.stringify(baseline));
    const r = await cli(['scenario', 'short-conn', '--baseline', file, '--dry-run']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('the real baseline still compares (exit 0 or 5, never 2)', async () => {
    const r = await cli(['compare', BASELINE.pathname, runDir(realReport())]);
    expect([0, 5], r.stderr).toContain(r.code);
    expect(r.stderr).toMatch(/of \d+ compared/);
    expect(r.stderr).not.toMatch(/of 0 compared/);
  });
});

describe("writing a run directory's outputs", () => {
  const ok = (file: string): Output => ({ name: file, file, describe: file, write: () => `new ${file}\n` });

  it('a renderer that fails leaves every file as it was (the files before it were already replaced)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.txt'), 'old a\n');
    writeFileSync(join(dir, 'b.txt'), 'old b\n');
    const before = snapshot(dir);
    const failing: Output = {
      name: 'b',
      file: 'b.txt',
      describe: 'b',
      write: () => {
        throw new Error('renderer failed');
      },
    };
    await expect(writeOutputs(loadReportFixture('short-conn'), dir, [ok('a.txt'), failing])).rejects.toThrow(
      'renderer failed',
    );
    expect(snapshot(dir)).toEqual(before);
  });

  it('a file that cannot be written leaves every file as it was, and no temporary file behind', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.txt'), 'old a\n');
    const before = snapshot(dir);
    await expect(
      writeOutputs(loadReportFixture('short-conn'), dir, [ok('a.txt'), ok('missing/b.txt')]),
    ).rejects.toThrow(/cannot write .*missing\/b\.txt: ENOENT/);
    expect(snapshot(dir)).toEqual(before);
  });
});
