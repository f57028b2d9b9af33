// `npm test` on a machine without the optional tools: nginx, haproxy, nft, chromium and podman are hidden in a mount
// namespace of the test's own (an empty file bound over each executable), and the unit project and a lab file that
// needs nginx run there. The unit project passes; the nginx tests are skipped with nginx named and counted by tool;
// under WAITLAB_REQUIRE_TOOLS=1 (what .ci/run sets) the same file fails instead.
import { spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/core/paths.ts';
import { locateTool, systemTool } from '../../src/core/system-tools.ts';
import { currentPrivilege } from '../../src/lab/privilege.ts';
import { tempDir } from '../helpers/lab.ts';

const HIDDEN = ['nginx', 'haproxy', 'nft', 'chromium', 'podman'];
const VITEST = join(PACKAGE_ROOT, 'node_modules/vitest/vitest.mjs');

/** Runs argv with the HIDDEN tools' executables covered by an empty, non-executable file. */
function withToolsHidden(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const empty = join(tempDir('waitlab-hidden-'), 'not-installed');
  writeFileSync(empty, '');
  chmodSync(empty, 0o644);
  const paths = HIDDEN.map((name) => locateTool(systemTool(name)!)).filter((p): p is string => p !== undefined);
  const script =
    'for t in "$@"; do case "$t" in --) shift; break;; esac; mount --bind "$0" "$t"; shift; done; exec "$@"';
  const child = spawn(
    'unshare',
    ['--mount', '--propagation', 'private', 'sh', '-c', script, empty, ...paths, '--', ...argv],
    { cwd: PACKAGE_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return new Promise((resolve) =>
    child.on('exit', (code) => resolve({ code, output: output.replace(/\x1b\[[0-9;]*m/g, '') })),
  );
}

// The lab project runs as root or as root of a user namespace: either can make a mount namespace of its own.
describe.runIf(currentPrivilege() !== 'user')('npm test on a machine without the optional tools', () => {
  const env = { ...process.env, WAITLAB_REQUIRE_TOOLS: '' };

  it('hides them for real: the tool lookup finds none of them', async () => {
    const probe = `import('${join(PACKAGE_ROOT, 'dist/core/system-tools.js')}').then((t) => console.log(JSON.stringify(${JSON.stringify(HIDDEN)}.map((n) => t.hasTool(n)))))`;
    const { code, output } = await withToolsHidden([process.execPath, '-e', probe], env);
    expect(code).toBe(0);
    expect(JSON.parse(output.trim())).toEqual(HIDDEN.map(() => false));
  });

  it('passes the unit project', async () => {
    const { code, output } = await withToolsHidden([process.execPath, VITEST, 'run', '--project', 'unit'], env);
    expect(output).toMatch(/Test Files\s+\d+ passed \(\d+\)/);
    expect(code).toBe(0);
  }, 300_000);

  it('skips an nginx lab file with nginx named, and counts the skips by tool in one closing line', async () => {
    const { code, output } = await withToolsHidden(
      [process.execPath, VITEST, 'run', '--project', 'lab', 'test/lab/http-server-nginx.test.ts'],
      env,
    );
    expect(code).toBe(0);
    // The file's two nginx tests are skipped; its validation test, which needs no nginx, still runs.
    expect(output).toMatch(/Tests\s+1 passed \| 2 skipped \(3\)/);
    expect(output.trimEnd().split('\n').at(-1)).toBe(
      'skipped for a missing tool (tests): nginx 2; npx waitlab setup installs them, WAITLAB_REQUIRE_TOOLS=1 fails instead',
    );
  }, 120_000);

  it('fails the same file under WAITLAB_REQUIRE_TOOLS=1, naming nginx', async () => {
    const { code, output } = await withToolsHidden(
      [process.execPath, VITEST, 'run', '--project', 'lab', 'test/lab/http-server-nginx.test.ts'],
      { ...env, WAITLAB_REQUIRE_TOOLS: '1' },
    );
    expect(code).toBe(1);
    expect(output).toContain('nginx not installed, and WAITLAB_REQUIRE_TOOLS=1 makes that a failure');
  }, 120_000);
});
