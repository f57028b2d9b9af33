// Issue 14, defects 1 and 12: no TypeScript is compiled through a cache directory that another user could
// have created first (tsx used /tmp/tsx-<uid>), and a reader that goes away ends the CLI quietly.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BIN, tempDir } from '../helpers/lab.ts';

describe('the CLI and the files of others', () => {
  it('loads a TypeScript scenario without writing anything under TMPDIR or HOME', () => {
    const tmp = tempDir();
    const home = tempDir();
    const r = spawnSync(process.execPath, [BIN, 'scenario', 'short-conn', '--dry-run'], {
      encoding: 'utf8',
      env: { ...process.env, TMPDIR: tmp, HOME: home },
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).scenario.name).toBe('short-conn');
    expect(readdirSync(tmp)).toEqual([]);
    expect(readdirSync(home)).toEqual([]);
  });

  it('ends quietly, exit 0, when its reader goes away (`waitlab list | true`)', () => {
    // `true` exits without reading: every write of the list meets a closed pipe (EPIPE).
    const r = spawnSync(
      'bash',
      ['-c', 'set -o pipefail; "$0" "$1" list | true; echo "status=$?"', process.execPath, BIN],
      { encoding: 'utf8' },
    );
    expect(r.stdout.trim()).toBe('status=0');
    expect(r.stderr).not.toMatch(/EPIPE|at .+:\d+:\d+/);
  });
});
