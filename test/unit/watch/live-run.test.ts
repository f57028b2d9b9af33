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
    expect(() => liveRunHosts(runDir([built, { msg: 'lab torn down', lab: 'wl1n0' }]))).toThrow(
      /the run is over, its lab wl1n0 is torn down/,
    );
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

  // Issue 20, defect 8: a host named "--help" reached the reader inside the namespace as an option.
  it("issue 20 defect 8: refuses a host name that is no lab host's, or a host outside its lab's namespaces, exit 2", () => {
    const hosts = (name: string, location = `wl1n0-${name}`) =>
      runDir([{ ...built, hosts: { [name]: { name, location } } }]);
    for (const name of [
      '--help',
      '-h',
      '--netns=x',
      'client\x1b[2J',
      'Client',
      'a'.repeat(13),
      '',
      'client_0',
      '__proto__',
    ]) {
      const error = (() => {
        try {
          liveRunHosts(hosts(name));
        } catch (err) {
          return err;
        }
      })();
      expect({ name, error }).toEqual({ name, error: expect.any(UsageError) });
      expect((error as Error).message).toContain(`names host ${JSON.stringify(name)}, which is no lab host's name`);
    }
    expect(() => liveRunHosts(hosts('client', 'wl1n0-server'))).toThrow(
      /puts host client in namespace "wl1n0-server", not wl1n0-client/,
    );
    expect(() => liveRunHosts(runDir([{ ...built, hosts: null }]))).toThrow(UsageError);
  });
});
