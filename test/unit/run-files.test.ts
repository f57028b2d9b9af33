// Where a run writes, and how (issue 14, defects 3, 5, 8, 11): one directory per run, an --out that another user
// could have prepared refused, files written whole under a new name and renamed, never through a planted symlink.
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareDefaultRunDir, prepareOutDir } from '../../src/controller/run-dir.ts';
import { UsageError } from '../../src/core/errors.ts';
import { writeWhole } from '../../src/outputs/registry.ts';
import { tempDir } from '../helpers/temp-dir.ts';

describe('run directories', () => {
  it('two runs in the same second get two directories', () => {
    const base = join(tempDir(), 'short-conn', '2026-11-23T12-00-00Z');
    const a = prepareDefaultRunDir(base);
    const b = prepareDefaultRunDir(base);
    const c = prepareDefaultRunDir(base);
    expect([a, b, c]).toEqual([base, `${base}-2`, `${base}-3`]);
  });

  it('takes a new --out, or an empty directory of ours that no one else can write', () => {
    const fresh = join(tempDir(), 'a', 'b');
    expect(prepareOutDir(fresh)).toBe(fresh);
    const empty = tempDir();
    expect(prepareOutDir(empty)).toBe(empty);
  });

  it('refuses an --out that is not empty, a file, a symlink, under a file, group-writable, or under /proc', () => {
    const full = tempDir();
    writeFileSync(join(full, 'report.json'), '{}');
    expect(() => prepareOutDir(full)).toThrow(/is not empty: one directory per run/);
    const file = join(tempDir(), 'f');
    writeFileSync(file, '');
    expect(() => prepareOutDir(file)).toThrow(/exists and is not a directory/);
    expect(() => prepareOutDir(join(file, 'below'))).toThrow(/ENOTDIR \(a part of the path is a file: /);
    const link = join(tempDir(), 'link');
    symlinkSync(tempDir(), link);
    expect(() => prepareOutDir(link)).toThrow(/is a symbolic link/);
    const shared = tempDir();
    chmodSync(shared, 0o777);
    expect(() => prepareOutDir(shared)).toThrow(/writable by other users \(mode 777\)/);
    expect(() => prepareOutDir('/proc/x')).toThrow(UsageError);
    expect(() => prepareOutDir('/proc/x')).toThrow(/cannot be under \/proc/);
  });

  it.runIf(process.getuid?.() === 0)('as root, refuses an --out that another user owns', () => {
    const theirs = tempDir();
    chownSync(theirs, 65534, 65534);
    expect(() => prepareOutDir(theirs)).toThrow(/belongs to uid 65534, not to this user \(0\)/);
  });
});

describe('writeWhole', () => {
  it('replaces a symlink planted at the name instead of writing through it', () => {
    const dir = tempDir();
    const victim = join(tempDir(), 'secret');
    writeFileSync(victim, 'untouched', { mode: 0o600 });
    symlinkSync(victim, join(dir, 'summary.md'));
    writeWhole(join(dir, 'summary.md'), '# the summary\n');
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
    expect(lstatSync(join(dir, 'summary.md')).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toBe('# the summary\n');
  });

  it('leaves the old file and no temporary one when it cannot write', () => {
    const dir = join(tempDir(), 'gone');
    expect(() => writeWhole(join(dir, 'report.json'), '{}')).toThrow(/cannot write .*report\.json: ENOENT/);
    mkdirSync(dir);
    writeFileSync(join(dir, 'report.json'), 'old');
    chmodSync(dir, 0o500);
    if (process.getuid?.() !== 0) {
      expect(() => writeWhole(join(dir, 'report.json'), 'new')).toThrow(/EACCES/);
      expect(readFileSync(join(dir, 'report.json'), 'utf8')).toBe('old');
    }
    chmodSync(dir, 0o700);
    expect(existsSync(join(dir, 'report.json'))).toBe(true);
  });
});
