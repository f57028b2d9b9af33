// `waitlab setup` for real, with the machine's own package manager: tmux is removed with apt-get, seen missing by
// --check, left missing by an ordinary user (who is shown the commands), installed by root, seen by --check, and
// put back in any case. Only where this is Debian's apt as the machine's root, with tmux there to begin with.
import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findExecutable } from '../../src/core/executable-lookup.ts';
import { hasTool } from '../../src/core/system-tools.ts';
import { currentPrivilege } from '../../src/lab/privilege.ts';
import { nobodyCanRunCheckout, runCli } from '../helpers/lab.ts';

const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const runnable = currentPrivilege() === 'root' && findExecutable('apt-get') !== undefined && hasTool('tmux');

async function cli(
  args: string[],
  options: { uid?: number; gid?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = runCli(args, options);
  const code = await run.exit;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

describe.runIf(runnable)('waitlab setup with apt-get, on tmux', () => {
  beforeAll(() => {
    execFileSync('apt-get', ['remove', '-y', '-qq', 'tmux'], { env: APT_ENV, stdio: 'ignore', timeout: 300_000 });
  }, 300_000);

  afterAll(() => {
    if (!hasTool('tmux'))
      execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'tmux'], {
        env: APT_ENV,
        stdio: 'ignore',
        timeout: 600_000,
      });
  }, 600_000);

  it('--check shows tmux missing, with its packages, and exits 1', async () => {
    const { code, stdout } = await cli(['setup', '--check', '--only', 'tmux']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^tmux\s+MISSING\s+tmux\s+tmux\s+tests lab\/watch-doctor/m);
  });

  it.runIf(nobodyCanRunCheckout())(
    'as an ordinary user prints the commands to run as root, and installs nothing',
    async () => {
      const { code, stderr } = await cli(['setup', '--only', 'tmux', '--yes'], { uid: 65534, gid: 65534 });
      expect(code).toBe(1);
      // With sudo installed the commands are through it; without (a fresh Debian often has none), for a root shell.
      const sudo = findExecutable('sudo') ? 'sudo ' : '';
      expect(stderr).toContain(
        `Installing needs root; run${sudo ? '' : ' as root'}\n  ${sudo}npx waitlab setup --only tmux --yes\n`,
      );
      expect(stderr).toContain(`  ${sudo}apt-get install -y -qq --no-install-recommends tmux\n`);
      expect(hasTool('tmux')).toBe(false);
    },
  );

  it('as root installs it, says where and which version, and --check then finds it', async () => {
    const installed = await cli(['setup', '--only', 'tmux', '--yes']);
    expect(installed.stderr).toContain(
      'waitlab setup: tmux missing; installing tmux with apt-get (no service is started)',
    );
    expect(installed.stderr).toMatch(/^ {2}tmux: installed, \/usr\/bin\/tmux tmux \d/m);
    expect(installed.code).toBe(0);
    expect(hasTool('tmux')).toBe(true);
    const { code, stdout } = await cli(['setup', '--check', '--only', 'tmux']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^tmux\s+\/usr\/bin\/tmux tmux \d/m);
    // Nothing was left to refuse service starts on the machine: the policy script was there before, or is gone.
    expect(
      spawnSync('sh', [
        '-c',
        'test ! -e /usr/sbin/policy-rc.d || grep -q "written by waitlab" /usr/sbin/policy-rc.d && exit 1 || exit 0',
      ]).status,
    ).toBe(0);
  }, 600_000);
});
