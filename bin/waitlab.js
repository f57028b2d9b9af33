#!/usr/bin/env node
// Thin launcher: the CLI is compiled JavaScript in dist/ (built by `npm run build`, which `npm ci` runs).
let cli;
try {
  cli = await import('../dist/cli/main.js');
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('dist/cli/main.js')) throw err;
  process.stderr.write('waitlab: dist/ is missing: run `npm run build` (npm ci runs it) in the waitlab checkout\n');
  process.exit(4);
}
cli.runCli(process.argv.slice(2));
