// Compiles src/ to dist/ (what the CLI, the agents and the published package run) and copies the
// non-TypeScript helpers beside their modules. Skipped when dist/ is newer than every source file;
// otherwise dist/ is rebuilt whole, so no stale module survives a rename.
import { execFileSync } from 'node:child_process';
import { copyFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = join(root, 'dist', '.built');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

const inputs = Math.max(newestSource(join(root, 'src')), ...['tsconfig.json', 'tsconfig.build.json', 'package.json'].map((f) => statSync(join(root, f)).mtimeMs));
let built = 0;
try {
  built = statSync(stamp).mtimeMs;
} catch {
  // never built
}
if (process.argv.includes('--force') || built < inputs) {
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  copyFileSync(join(root, 'src/actors/listener.py'), join(root, 'dist/actors/listener.py'));
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}
