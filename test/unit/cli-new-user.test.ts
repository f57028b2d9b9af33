// What a new user trying the packed tarball tripped on: a false regression from a --baseline recorded with other
// parameters, `--version` printing the user's own project's version, and setup's scope for a CI job.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { exitCodeFor } from '../../src/cli/exit-codes.ts';
import { main } from '../../src/cli/main.ts';
import { PACKAGE_ROOT, PACKAGE_VERSION } from '../../src/core/paths.ts';

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string; error: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    return { code: await main(args), stdout, stderr, error: '' };
  } catch (err) {
    return { code: exitCodeFor(err), stdout, stderr, error: (err as Error).message };
  } finally {
    vi.restoreAllMocks();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('the CLI as a new user meets it', () => {
  it('says before the run that --baseline was recorded with other parameters, naming each (a false regression otherwise looks real)', async () => {
    const { code, stderr } = await run([
      'scenario',
      'short-conn',
      '--baseline',
      'baselines/short-conn',
      '--set',
      'duration=4s',
      '--dry-run',
    ]);
    expect(code).toBe(0);
    expect(stderr).toMatch(/was recorded with other parameters \(baseline -> this run: duration 6000 -> 4000\)/);
    expect(
      (await run(['scenario', 'short-conn', '--baseline', 'baselines/short-conn', '--dry-run'])).stderr,
    ).not.toMatch(/other parameters/);
  });

  it("--version is waitlab's own, wherever it runs from (npm test builds dist/ first)", () => {
    const printed = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bin/waitlab.js'), '--version'], {
      cwd: '/',
      encoding: 'utf8',
    });
    expect(printed.stdout.trim()).toBe(PACKAGE_VERSION);
  });

  it('setup --check --for names only what those scenarios and the netns lab run', async () => {
    const { stdout } = await run(['setup', '--check', '--for', 'short-conn,proxy-short-upstream']);
    expect(
      stdout
        .split('\n')
        .slice(1)
        .map((line) => line.split(/\s+/)[0])
        .filter(Boolean),
    ).toEqual(['ip', 'unshare', 'mount', 'setpriv', 'nginx']);
    expect((await run(['setup', '--check', '--for', 'short-conn', '--only', 'nginx'])).code).toBe(2);
  });
});
