// An ordinary user's run: the CLI re-executes itself as root of a user namespace and builds the same
// lab there. Run when the tests themselves run as the machine's root (CI), as user "nobody".
import { chownSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { currentPrivilege } from '../../src/lab/privilege.ts';
import { nobodyCanRunCheckout, runCli, tempDir } from '../helpers/lab.ts';

const NOBODY = 65534;
const canTry = currentPrivilege() === 'root';
const reachable = canTry && nobodyCanRunCheckout();

// Said plainly in the test list when it cannot run: a checkout under a 0700 directory is out of nobody's reach.
describe.runIf(canTry && !reachable)('rootless run', () => {
  it.skip('skipped: user nobody cannot read this checkout (a parent directory is 0700); clone it where others can read it to run the rootless tests', () =>
    undefined);
});

describe.runIf(reachable)('rootless run', () => {
  it('runs short-conn as an ordinary user, in a user namespace, with the same evidence', async () => {
    const dir = tempDir();
    // nobody's own directory: a world-writable one (0777, not sticky) is refused as a place to write a run.
    chownSync(dir, NOBODY, NOBODY);
    const cli = runCli(
      [
        'scenario',
        'short-conn',
        '--set',
        'ports=40000-40199',
        '--set',
        'rate=200/s',
        '--set',
        'duration=1.5s',
        '--out',
        join(dir, 'run'),
        '--no-progress',
      ],
      {
        uid: NOBODY,
        gid: NOBODY,
        env: { PATH: process.env.PATH, HOME: dir, TMPDIR: dir },
      },
    );
    const code = await cli.exit;
    if (code === 3) {
      // Unprivileged user namespaces are off on this machine: the run must stop before doing anything and say why.
      expect(cli.stderr()).toMatch(/cannot create user namespaces/);
      return;
    }
    expect(cli.stderr()).toMatch(/short-conn: PASS/);
    expect(code).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'run', 'report.json'), 'utf8'));
    expect(report.environment.privilege).toBe('userns-root');
    expect(report.hosts.client.peak.ephemeral.TIME_WAIT).toBe(200);
    expect(report.actors.flood.errors.EADDRNOTAVAIL.count).toBeGreaterThan(0);
  });
});
