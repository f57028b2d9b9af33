import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Three groups:
// - unit: parsers, validation, findings, predictions and outputs on fixtures; no lab, no privileges, files in parallel.
// - lab: real namespaces on the 2-core machine, one file at a time so that one test's flood does not skew
//   another's rates; run through `waitlab privileged` (root, or root of a user namespace).
// - slow: kernel timers (the 60 s TIME_WAIT), the prediction matrix and the labs of a minute or more each,
//   `npm run test:slow`, kept out of CI's 25 minutes.
// Scenario files import the package by name; in tests that is the source, not dist/.
export default defineConfig({
  resolve: { alias: [{ find: /^waitlab$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) }] },
  test: {
    pool: 'forks',
    // Each test file's temporary directories are removed when it ends, kept where one of its tests failed.
    setupFiles: ['test/setup/temp-dirs.ts'],
    // The default report, then one line counting the tests skipped for a missing system tool (test/helpers/tools.ts).
    reporters: ['default', './test/setup/tool-skips-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], setupFiles: ['test/setup/unit-tools.ts'] },
      },
      { extends: true, test: { name: 'lab', include: ['test/lab/**/*.test.ts'], fileParallelism: false } },
      {
        extends: true,
        test: { name: 'slow', include: ['test/slow/**/*.test.ts'], fileParallelism: false, testTimeout: 180_000 },
      },
    ],
  },
});
