// --run reads a run directory's log before entering anything: what it refuses, without a lab.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/core/errors.ts';
import { liveRunHosts } from '../../../src/watch/live-run.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const runDir = (lines: object[]) => {
  const dir = join(tempDir(), 'run');
  mkdirSync(dir);
  writeFileSync(join(dir, 'log.ndjson'), lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  return dir;
};
const built = { msg: 'lab built', lab: 'wl1n0', hosts: { client: { name: 'client', location: 'wl1n0-client' } } };

describe('watch --run', () => {
  it('refuses a directory that is no run, a run without its lab yet, and a run that is over', () => {
    expect(() => liveRunHosts(tempDir())).toThrow(/not a run directory \(no log.ndjson\)/);
    expect(() => liveRunHosts(runDir([{ msg: 'plan loaded' }]))).toThrow(/has not built its lab/);
    expect(() => liveRunHosts(runDir([built, { msg: 'lab torn down', lab: 'wl1n0' }]))).toThrow(/the run is over, its lab wl1n0 is torn down/);
  });

  it('refuses a lab name that is not one, before reading any owner file', () => {
    const error = (() => {
      try {
        liveRunHosts(runDir([{ ...built, lab: '../../etc/x' }]));
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/names lab "..\/..\/etc\/x", which is no lab's name/);
  });
});
