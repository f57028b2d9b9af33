// Temporary directories for tests that write files; no lab needed.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(prefix = 'waitlab-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
