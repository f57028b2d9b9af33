// Every test file: its temporary directories (tempDir) go when it ends, unless one of its tests failed; then they
// stay for a look at the run they hold (report.json, log.ndjson, samples), and their paths are printed.
import { rmSync } from 'node:fs';
import { afterAll, beforeEach } from 'vitest';
import { takeTempDirs } from '../helpers/temp-dir.ts';

let failed = false;
beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    failed = true;
  });
});

afterAll(() => {
  const dirs = takeTempDirs();
  if (failed) {
    if (dirs.length) process.stderr.write(`temporary directories kept for the failed tests: ${dirs.join(' ')}\n`);
    return;
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
