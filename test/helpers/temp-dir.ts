// Temporary directories for tests that write files; no lab needed. A test file's directories are removed when the
// file ends (test/setup/temp-dirs.ts), and kept, their paths printed, where one of its tests failed.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

export function tempDir(prefix = 'waitlab-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** The directories made since the last call, now the caller's to remove or keep. */
export function takeTempDirs(): string[] {
  return made.splice(0);
}
