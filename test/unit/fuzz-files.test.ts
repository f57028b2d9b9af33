// The files commands read, generated from a real run's files and mutated (fast-check): a field's type changed,
// nulled, removed, nested 200,000 deep, or a name every object inherits added. Through the CLI (report,
// compare, scenario --baseline and --profile, dry runs only), every case either runs (exit by its verdict) or
// is refused as a usage error (exit 2): never an internal error (exit 4), and a refused `report` leaves the
// run directory as it was. Bounded here (FUZZ_RUNS raises it, FUZZ_SEED varies it); no lab: the scenario
// commands are dry runs.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { exitCodeFor } from '../../src/cli/exit-codes.ts';
import { main } from '../../src/cli/main.ts';
import { isWaitlabError } from '../../src/core/errors.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 20);
/** A fixed seed by default, so that a failure repeats; FUZZ_SEED=<n> explores others. */
const SEED = Number(process.env['FUZZ_SEED'] ?? 20);
const RUN = new URL('../fixtures/runs/', import.meta.url);
const read = (url: URL) => JSON.parse(readFileSync(url, 'utf8')) as Record<string, any>;
const REPORT = read(new URL('short-conn.report.json', RUN));
const BASELINE = read(new URL('../../baselines/short-conn/baseline.json', import.meta.url));
const SAMPLES = readFileSync(new URL('short-conn.samples.ndjson', RUN));
const PROFILE = {
  name: 'fuzzed',
  description: 'generated',
  sysctls: { connecting: { 'net.ipv4.tcp_tw_reuse': 1 }, client: { 'net.ipv4.ip_local_port_range': '40000 40999' } },
};
const INHERITED = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
const DEEP = '\u0000deep';

type Path = readonly (string | number)[];

/** Every path into `value`: each key of each object, and the first two items of each array (series hold thousands). */
function pathsOf(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (typeof value !== 'object' || value === null) return out;
  const keys: (string | number)[] = Array.isArray(value) ? [0, 1].filter((i) => i < value.length) : Object.keys(value);
  for (const k of keys) {
    const p = [...prefix, k];
    out.push(p);
    pathsOf((value as Record<string | number, unknown>)[k], p, out);
  }
  return out;
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constantFrom<{ kind: 'set'; value: unknown }>(
    ...[null, 'x', '', 7, -1, 0, 1e308, true, [], {}, [1, 2], DEEP].map((value) => ({ kind: 'set' as const, value })),
  ),
  fc.constant({ kind: 'delete' as const }),
  fc.constantFrom(...INHERITED).map((name) => ({ kind: 'inherited' as const, name })),
);

type Mutation = { kind: 'set'; value: unknown } | { kind: 'delete' } | { kind: 'inherited'; name: string };

/** A copy of `base` with one mutation at the path picked by `pick`. */
function mutated(base: unknown, pick: number, m: Mutation): unknown {
  const copy = structuredClone(base) as Record<string | number, any>;
  // A depth first, then a path of that depth: top-level fields are picked as often as the thousands of deep ones.
  const paths = pathsOf(copy);
  const depths = [...new Set(paths.map((p) => p.length))].sort((a, b) => a - b);
  const atDepth = paths.filter((p) => p.length === depths[pick % depths.length]);
  const path = atDepth[Math.floor(pick / depths.length) % atDepth.length]!;
  let parent = copy;
  for (const k of path.slice(0, -1)) parent = parent[k];
  const last = path.at(-1)!;
  if (m.kind === 'set') parent[last] = m.value;
  else if (m.kind === 'delete') Array.isArray(parent) ? parent.splice(Number(last), 1) : delete parent[last];
  else {
    // An own property of that name (an assignment to __proto__ would set the prototype instead), in the object
    // at the path or, for a leaf, beside it.
    const target =
      typeof parent[last] === 'object' && parent[last] !== null && !Array.isArray(parent[last]) ? parent[last] : parent;
    Object.defineProperty(target, m.name, {
      value: structuredClone(parent[last]),
      enumerable: true,
      configurable: true,
      writable: true,
    });
  }
  return copy;
}

/** JSON text, the DEEP marker made a 200,000-deep array (JSON.stringify itself would overflow on one). */
function text(value: unknown): string {
  return JSON.stringify(value).replace(JSON.stringify(DEEP), `${'['.repeat(200_000)}${']'.repeat(200_000)}`);
}

/** Runs `waitlab ...` in this process: how it ended (a returned exit code, or the error it threw). */
async function cli(args: string[]): Promise<{ code?: number; error?: unknown; stderr: string }> {
  let stderr = '';
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    return { code: await main(args), stderr };
  } catch (error) {
    return { error, stderr };
  } finally {
    err.mockRestore();
    out.mockRestore();
  }
}

/** It ran, or it was refused with a message and exit 2 (a usage error, an invalid plan): anything else is a crash. */
function expectRunOrRefused(r: { code?: number; error?: unknown }, what: string): void {
  if (r.error === undefined) return;
  const e = r.error as Error;
  expect(
    isWaitlabError(e) && exitCodeFor(e),
    `${what}: ${isWaitlabError(e) ? e.code : 'uncaught'} ${e?.stack ?? String(e)}`,
  ).toBe(2);
  expect(e.message.length).toBeGreaterThan(0);
}

function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((f) => [f, readFileSync(join(dir, f), 'utf8')]),
  );
}

describe('commands on mutated files of a real run', () => {
  it('report on a mutated report.json runs or exits 2, and a refusal leaves the directory as it was', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), mutation, async (pick, m) => {
        const dir = tempDir();
        const file = text(mutated(REPORT, pick, m));
        writeFileSync(join(dir, 'report.json'), file);
        const r = await cli(['report', dir]);
        expectRunOrRefused(r, `${JSON.stringify(m).slice(0, 80)} at path #${pick}`);
        if (r.error !== undefined) expect(snapshot(dir)).toEqual({ 'report.json': file });
      }),
      { numRuns: RUNS, seed: SEED },
    );
  }, 120_000);

  it('report rebuilding a killed run from a mutated log.ndjson runs or exits 2, and a refusal leaves the directory as it was', async () => {
    const lines = {
      start: { level: 30, time: Date.parse(REPORT.startedAt), msg: 'run starting', plan: REPORT.scenario.plan },
      built: {
        level: 30,
        msg: 'lab built',
        lab: 'wl1n1',
        hosts: { client: { location: 'wl1n1-client' }, server: { location: 'wl1n1-server' } },
      },
    };
    await fc.assert(
      fc.asyncProperty(fc.nat(), mutation, async (pick, m) => {
        const dir = tempDir();
        // One line each, as the logger writes them.
        const log = Object.values(mutated(lines, pick, m) as Record<string, unknown>).map(text);
        writeFileSync(join(dir, 'log.ndjson'), `${log.join('\n')}\n`);
        writeFileSync(join(dir, 'samples.ndjson'), SAMPLES);
        const before = snapshot(dir);
        const r = await cli(['report', dir]);
        expectRunOrRefused(r, `${JSON.stringify(m).slice(0, 80)} at path #${pick}`);
        if (r.error !== undefined) expect(snapshot(dir)).toEqual(before);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  }, 120_000);

  it('compare with a mutated baseline.json runs, comparing at least one metric, or exits 2', async () => {
    const current = tempDir();
    writeFileSync(join(current, 'report.json'), JSON.stringify(REPORT));
    await fc.assert(
      fc.asyncProperty(fc.nat(), mutation, async (pick, m) => {
        const file = join(tempDir(), 'baseline.json');
        writeFileSync(file, text(mutated(BASELINE, pick, m)));
        const what = `${JSON.stringify(m).slice(0, 80)} at path #${pick}`;
        const r = await cli(['compare', file, current]);
        expectRunOrRefused(r, what);
        // A baseline that compares nothing passed every run: refused instead (defect 5).
        if (r.code !== undefined) expect(r.stderr, what).not.toMatch(/of 0 compared/);
      }),
      // A compare takes milliseconds: more cases.
      { numRuns: RUNS * 3, seed: SEED },
    );
  }, 120_000);

  it('scenario --baseline with a mutated baseline.json runs (a dry run) or exits 2', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), mutation, async (pick, m) => {
        const file = join(tempDir(), 'baseline.json');
        writeFileSync(file, text(mutated(BASELINE, pick, m)));
        expectRunOrRefused(
          await cli(['scenario', 'short-conn', '--baseline', file, '--dry-run']),
          `${JSON.stringify(m).slice(0, 80)} at path #${pick}`,
        );
      }),
      { numRuns: RUNS, seed: SEED },
    );
  }, 120_000);

  it('compare with a mutated report.json on either side runs or exits 2', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), mutation, fc.boolean(), async (pick, m, asBaseline) => {
        const good = tempDir();
        const bad = tempDir();
        writeFileSync(join(good, 'report.json'), JSON.stringify(REPORT));
        writeFileSync(join(bad, 'report.json'), text(mutated(REPORT, pick, m)));
        expectRunOrRefused(
          await cli(['compare', ...(asBaseline ? [bad, good] : [good, bad])]),
          `${asBaseline ? 'baseline' : 'current'} ${JSON.stringify(m).slice(0, 80)} at path #${pick}`,
        );
      }),
      // A compare takes milliseconds: more cases.
      { numRuns: RUNS * 3, seed: SEED },
    );
  }, 120_000);

  it('scenario --profile x.json with a mutated profile runs or exits 2', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), mutation, async (pick, m) => {
        const file = join(tempDir(), 'fuzzed.json');
        writeFileSync(file, text(mutated(PROFILE, pick, m)));
        expectRunOrRefused(
          await cli(['scenario', 'short-conn', '--profile', file, '--dry-run']),
          `${JSON.stringify(m).slice(0, 80)} at path #${pick}`,
        );
      }),
      { numRuns: RUNS, seed: SEED },
    );
  }, 120_000);
});
