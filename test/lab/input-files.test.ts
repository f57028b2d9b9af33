// Issue 20, defect 3: the files commands read are regular files under a size cap, and never quoted in an error.
// A FIFO must not hang a command, /dev/zero must not grow it until it aborts, a symlink to a secret must not
// come back in a parse error. Each command runs under a 3 GB address-space limit and a time bound, so that the
// unfixed code fails the test instead of taking the machine's memory; exit 2 is asserted, never a duration.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/core/paths.ts';
import { BIN, tempDir } from '../helpers/lab.ts';

const SECRET = 'SECRET-a1b2c3-do-not-print';
const REPORT_FIXTURE = resolve(PACKAGE_ROOT, 'test/fixtures/runs/short-conn.report.json');

function cli(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync('sh', ['-c', 'ulimit -v 3000000; exec "$@"', 'sh', process.execPath, BIN, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    killSignal: 'SIGKILL',
  });
  return { status: r.status, stderr: r.stderr };
}

function secretFile(dir: string): string {
  const file = join(dir, 'secret');
  writeFileSync(file, `${SECRET}:x:0:0\n`, { mode: 0o600 });
  return file;
}

function fifo(path: string): string {
  execFileSync('mkfifo', [path]);
  return path;
}

/** A run directory holding the fixture's report.json. */
function runDir(parent: string, name: string): string {
  const dir = join(parent, name);
  mkdirSync(dir);
  copyFileSync(REPORT_FIXTURE, join(dir, 'report.json'));
  return dir;
}

describe('input files are regular, bounded and never echoed', () => {
  it('compare refuses a report.json that is a symlink to /dev/zero, a FIFO, or too large', () => {
    const dir = tempDir();
    const current = runDir(dir, 'current');
    symlinkSync('/dev/zero', join(dir, 'zero.json'));
    const zero = cli(['compare', join(dir, 'zero.json'), current]);
    expect(zero.stderr).toMatch(/zero\.json is a character device: give a regular file/);
    expect(zero.status).toBe(2);

    const pipe = cli(['compare', fifo(join(dir, 'fifo.json')), current]);
    expect(pipe.stderr).toMatch(/fifo\.json is a FIFO: give a regular file/);
    expect(pipe.status).toBe(2);

    // Sparse: 100 MiB of zeros that take no disk.
    writeFileSync(join(dir, 'big.json'), '');
    truncateSync(join(dir, 'big.json'), 100 * 1024 * 1024);
    const big = cli(['compare', join(dir, 'big.json'), current]);
    expect(big.stderr).toMatch(/big\.json is 100 MiB, more than the 64 MiB such a file can be/);
    expect(big.status).toBe(2);
  });

  it('a symlink to a secret file is refused without its content: compare, --baseline, --profile', () => {
    const dir = tempDir();
    const secret = secretFile(dir);
    const current = runDir(dir, 'current');
    symlinkSync(secret, join(dir, 'report.json'));
    symlinkSync(secret, join(dir, 'profile.json'));
    const runs = [
      cli(['compare', join(dir, 'report.json'), current]),
      cli(['scenario', 'short-conn', '--baseline', join(dir, 'report.json'), '--dry-run']),
      cli(['scenario', 'short-conn', '--profile', join(dir, 'profile.json'), '--dry-run']),
    ];
    for (const r of runs) {
      expect(r.stderr).toMatch(/(report|profile)\.json is not JSON/);
      expect(r.stderr).not.toContain('SECRET');
      expect(r.status).toBe(2);
    }
  });

  it('--baseline and --profile that are FIFOs end at once with exit 2', () => {
    const dir = tempDir();
    const baseline = cli(['scenario', 'short-conn', '--baseline', fifo(join(dir, 'baseline.json')), '--dry-run']);
    expect(baseline.stderr).toMatch(/baseline\.json is a FIFO/);
    expect(baseline.status).toBe(2);
    const profile = cli(['scenario', 'short-conn', '--profile', fifo(join(dir, 'p.json')), '--dry-run']);
    expect(profile.stderr).toMatch(/p\.json is a FIFO/);
    expect(profile.status).toBe(2);
  });

  it('`waitlab report` of a killed run whose log.ndjson is a FIFO, or whose samples.ndjson is /dev/zero, ends with exit 2', () => {
    const dir = tempDir();
    const killed = join(dir, 'killed');
    mkdirSync(killed);
    fifo(join(killed, 'log.ndjson'));
    writeFileSync(join(killed, 'samples.ndjson'), '');
    const r = cli(['report', killed]);
    expect(r.stderr).toMatch(/log\.ndjson is a FIFO/);
    expect(r.status).toBe(2);

    const zero = join(dir, 'zero');
    mkdirSync(zero);
    const plan = JSON.parse(readFileSync(REPORT_FIXTURE, 'utf8')).scenario.plan;
    writeFileSync(join(zero, 'log.ndjson'), `${JSON.stringify({ msg: 'run starting', time: 0, plan })}\n`);
    symlinkSync('/dev/zero', join(zero, 'samples.ndjson'));
    const z = cli(['report', zero]);
    expect(z.stderr).toMatch(/samples\.ndjson is a character device/);
    expect(z.status).toBe(2);
  });

  it("compare --out does not stream a baseline run's samples.ndjson that is /dev/zero", () => {
    const dir = tempDir();
    const baseline = runDir(dir, 'baseline');
    symlinkSync('/dev/zero', join(baseline, 'samples.ndjson'));
    const current = runDir(dir, 'current');
    const r = cli(['compare', baseline, current, '--out', join(dir, 'out')]);
    expect(r.stderr).toMatch(/samples\.ndjson is a character device/);
    expect(r.status).toBe(2);
  });
});
