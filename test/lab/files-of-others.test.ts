// Issue 20, defect 1: root never writes through a directory or a symlink that another user controls. The other
// user is the machine's `nobody`, acting through setpriv; each race is driven step by step (root's mkdir, then
// nobody's swap, then root's write), so what it shows does not depend on timing.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareDefaultRunDir, prepareOutDir } from '../../src/controller/run-dir.ts';
import { PACKAGE_ROOT } from '../../src/core/paths.ts';
import { writeWhole } from '../../src/outputs/registry.ts';
import { BIN, tempDir } from '../helpers/lab.ts';

const asRoot = process.getuid?.() === 0;

/** Runs a shell command as user nobody: the hostile local user. */
function asNobody(script: string): void {
  execFileSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'sh', '-c', script], {
    stdio: 'pipe',
  });
}

/** A sticky directory every user can write, like /tmp (tempDir's are 0700), and a root-owned victim inside it holding one file. */
function playground(): { base: string; victim: string } {
  const base = tempDir();
  chmodSync(base, 0o1777);
  const victim = join(base, 'victim');
  mkdirSync(victim, { mode: 0o755 });
  writeFileSync(join(victim, 'keep'), 'root data');
  return { base, victim };
}

function refusal(f: () => unknown): Error | undefined {
  try {
    f();
    return undefined;
  } catch (err) {
    return err as Error;
  }
}

describe.runIf(asRoot)('root writes nothing where another user points', () => {
  it('refuses an --out below a directory of another user, so swapping it for a symlink after the mkdir cannot redirect the writes', () => {
    const { base, victim } = playground();
    asNobody(`mkdir ${base}/theirs`);
    let dir: string | undefined;
    const refused = refusal(() => (dir = prepareOutDir(join(base, 'theirs', 'run'))));
    if (dir) {
      // Root's mkdir is done; nobody moves the run directory away and plants a symlink to the victim in its place.
      asNobody(`mv ${base}/theirs/run ${base}/theirs/moved && ln -s ${victim} ${base}/theirs/run`);
      writeWhole(join(dir, 'report.json'), '{"written":"by root"}');
    }
    expect(readdirSync(victim)).toEqual(['keep']);
    expect(refused?.message).toMatch(
      /theirs belongs to uid 65534, so another user could redirect what is written there/,
    );
  });

  it('refuses an --out that runs through a symlink in a directory of another user (`/tmp/x/link/sub` made `/root/sub`)', () => {
    const { base, victim } = playground();
    asNobody(`mkdir ${base}/x && ln -s ${victim} ${base}/x/link`);
    const refused = refusal(() => prepareOutDir(join(base, 'x', 'link', 'sub')));
    expect(existsSync(join(victim, 'sub'))).toBe(false);
    expect(refused?.message).toMatch(/x belongs to uid 65534/);
  });

  it('refuses a default reports/ that another user made a symlink in a shared (sticky) working directory', () => {
    const { base, victim } = playground();
    const shared = join(base, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    asNobody(`ln -s ${victim} ${shared}/reports`);
    const refused = refusal(() => prepareDefaultRunDir(join(shared, 'reports', 'short-conn', '2026-12-07T06-00-00Z')));
    expect(readdirSync(victim)).toEqual(['keep']);
    expect(refused?.message).toMatch(/reports belongs to uid 65534/);
    // The same sticky directory is fine where the path is root's own.
    expect(prepareDefaultRunDir(join(shared, 'mine', 'short-conn', 'now'))).toBe(
      join(shared, 'mine', 'short-conn', 'now'),
    );
  });

  it("`waitlab report` does not re-render into a run directory reached through another user's symlink", () => {
    const { base, victim } = playground();
    copyFileSync(resolve(PACKAGE_ROOT, 'test/fixtures/runs/short-conn.report.json'), join(victim, 'report.json'));
    asNobody(`mkdir ${base}/theirs && ln -s ${victim} ${base}/theirs/run`);
    const r = spawnSync(process.execPath, [BIN, 'report', join(base, 'theirs', 'run')], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(readdirSync(victim).sort()).toEqual(['keep', 'report.json']);
    expect(r.stderr).toMatch(/theirs belongs to uid 65534/);
    expect(r.status).toBe(2);
  });

  it("`waitlab baseline --out` refuses another user's symlink before it runs anything", () => {
    const { base, victim } = playground();
    asNobody(`mkdir ${base}/theirs && ln -s ${victim} ${base}/theirs/baseline`);
    const r = spawnSync(
      process.execPath,
      [
        BIN,
        'baseline',
        'short-conn',
        '--runs',
        '1',
        '--set',
        'duration=1s',
        '--set',
        'rate=50/s',
        '--out',
        join(base, 'theirs', 'baseline'),
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(readdirSync(victim)).toEqual(['keep']);
    expect(r.stderr).toMatch(/theirs belongs to uid 65534/);
    expect(r.status).toBe(2);
    expect(readFileSync(join(victim, 'keep'), 'utf8')).toBe('root data');
  });
});
