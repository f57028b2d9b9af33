// The CLI under generated argument lists (fast-check): whatever a user types, it answers with exit 0 or 2, a
// message and no stack trace, and builds nothing: no namespace, no file where it ran. Commands that would
// build a lab are generated with --dry-run only. Bounded here (FUZZ_RUNS raises it); each case is a process.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BIN, labNamespaces, labsLeftSince, tempDir } from '../helpers/lab.ts';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 25);

const word = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('short-conn', 'nope', '../x.ts', '/proc/x', '-1', '999h', '300/s', '=', '--', ''),
);
const option = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(
        '--set',
        '--threshold',
        '--tolerance',
        '--profile',
        '--sweep',
        '--out',
        '--driver',
        '--baseline',
        '--sysctl',
        '--max-runs',
        '--json',
        '--verbose',
        '--bogus',
      ),
      word,
    )
    .map(([o, v]) => [o, v]),
  fc
    .tuple(fc.constantFrom('--set'), fc.constantFrom('rate', 'duration', 'ports', 'twReuse', 'nope'), word)
    .map(([o, k, v]) => [o, `${k}=${v}`]),
);
const args = fc.oneof(
  fc
    .tuple(fc.constantFrom('short-conn', 'server-close', 'nope', 'x.ts', ''), fc.array(option, { maxLength: 4 }))
    .map(([s, opts]) => ['scenario', s, ...opts.flat(), '--dry-run']),
  fc.tuple(word, word).map(([a, b]) => ['compare', a, b]),
  word.map((d) => ['report', d]),
  fc.array(word, { maxLength: 3 }).map((ws) => ['list', ...ws]),
  fc.array(word, { minLength: 1, maxLength: 3 }),
);

describe('the CLI under generated arguments', () => {
  it('exits 0 or 2 with a message, never a stack trace, and creates nothing', () => {
    const before = labNamespaces();
    fc.assert(
      fc.property(args, (argv) => {
        const cwd = tempDir();
        const r = spawnSync(process.execPath, [BIN, ...argv], { cwd, encoding: 'utf8', timeout: 30_000 });
        expect([0, 2], `${JSON.stringify(argv)} -> ${r.status}: ${r.stderr}`).toContain(r.status);
        expect(r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
        if (r.status === 2) expect(r.stderr.trim().length).toBeGreaterThan(0);
        expect(readdirSync(cwd)).toEqual([]);
      }),
      { numRuns: RUNS },
    );
    expect(labsLeftSince(before)).toEqual([]);
  }, 300_000);
});
