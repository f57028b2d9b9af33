import { defineConfig } from 'vitest/config';

// Lab tests build real namespaces and load the 2-core machine: files run one at a time so that one
// test's flood does not skew another's rates. Slow kernel-timer tests (the 60 s TIME_WAIT) have their
// own project: `npm run test:slow`.
export default defineConfig({
  test: {
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'default', include: ['test/**/*.test.ts'], exclude: ['test/slow/**'] } },
      { extends: true, test: { name: 'slow', include: ['test/slow/**/*.test.ts'], testTimeout: 180_000 } },
    ],
  },
});
