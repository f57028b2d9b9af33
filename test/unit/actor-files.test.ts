// The files actors run with (a proxy's filled-in nginx.conf) copied into the run directory before the lab: each
// a new file under a plain name; a name that is a path, or a file already there (a planted symlink), is refused.
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeActorFiles } from '../../src/controller/actor-files.ts';
import { OutputError } from '../../src/core/errors.ts';
import type { Plan } from '../../src/core/plan.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const planWith = (files: Record<string, string>) =>
  ({
    actors: {
      proxy: { name: 'proxy', kind: 'proxy', role: 'server', host: 'proxy', options: {}, files },
      web: { name: 'web', kind: 'http-server', role: 'server', host: 'b', options: {} },
    },
  }) as unknown as Plan;

describe('actor files in the run directory', () => {
  it('writes each under its name, exactly as the plan holds it', () => {
    const dir = tempDir();
    expect(writeActorFiles(planWith({ 'proxy.nginx.conf': 'events {}\n' }), dir)).toEqual(['proxy.nginx.conf']);
    expect(readFileSync(join(dir, 'proxy.nginx.conf'), 'utf8')).toBe('events {}\n');
  });

  it('refuses a name that is a path, and a file already there, writing nothing through either', () => {
    const dir = tempDir();
    expect(() => writeActorFiles(planWith({ '../proxy.nginx.conf': 'x' }), dir)).toThrow(OutputError);
    expect(existsSync(join(dir, '..', 'proxy.nginx.conf'))).toBe(false);
    const target = join(tempDir(), 'elsewhere');
    symlinkSync(target, join(dir, 'proxy.nginx.conf'));
    expect(() => writeActorFiles(planWith({ 'proxy.nginx.conf': 'x' }), dir)).toThrow(
      /cannot write proxy\.nginx\.conf .*EEXIST/,
    );
    expect(existsSync(target)).toBe(false);
  });
});
