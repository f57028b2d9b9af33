#!/usr/bin/env node
// Thin launcher: the CLI is compiled JavaScript in dist/ (built by `npm run build`, which `npm ci` runs).
import { readFileSync } from 'node:fs';

// Loading the CLI alone opens a few dozen files; a run opens a socket per connection on top. Under a tiny
// open-files limit module loading fails with misleading errors (a package "not found"), so say it first.
const MIN_OPEN_FILES = 256;
try {
  const soft = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
  if (soft !== undefined && Number(soft) < MIN_OPEN_FILES) {
    process.stderr.write(
      `waitlab: the open-files limit is ${soft}; waitlab needs at least ${MIN_OPEN_FILES} (raise it: ulimit -n 4096)\n`,
    );
    process.exit(3);
  }
} catch {
  // no /proc: let the CLI say what it can
}

let cli;
try {
  cli = await import('../dist/cli/main.js');
} catch (err) {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    process.stderr.write('waitlab: dist/ is missing: run `npm run build` (npm ci runs it) in the waitlab checkout\n');
  } else {
    process.stderr.write(`waitlab: cannot load the CLI: ${err?.code ?? ''} ${err?.message ?? err}\n`);
  }
  process.exit(4);
}
cli.runCli(process.argv.slice(2));
