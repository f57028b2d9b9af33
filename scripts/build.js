// Compiles src/ to dist/ (what the CLI, the agents and the published package run) and copies the
// non-TypeScript helpers beside their modules. Skipped when dist/ is newer than every source file;
// otherwise dist/ is built whole in a new directory and swapped in by rename, so no stale module survives a
// rename of its source and a run that is starting agents meanwhile never sees a half-written dist/.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

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

const inputs = Math.max(
  newestSource(join(root, 'src')),
  ...['tsconfig.json', 'tsconfig.build.json', 'package.json'].map((f) => statSync(join(root, f)).mtimeMs),
);
let built = 0;
try {
  built = statSync(stamp).mtimeMs;
} catch {
  // never built
}
if (process.argv.includes('--force') || built < inputs) {
  const fresh = join(root, `dist.building-${process.pid}`);
  const old = join(root, `dist.old-${process.pid}`);
  rmSync(fresh, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', fresh], {
    cwd: root,
    stdio: 'inherit',
  });
  copyFileSync(join(root, 'src/actors/listener.py'), join(fresh, 'actors/listener.py'));
  copyFileSync(join(root, 'src/outputs/page-charts.js'), join(fresh, 'outputs/page-charts.js'));
  // The JSON Schemas the package ships (exports "./schema/*.json"), made by the compiled code from the same
  // shapes and fields that check reports and scenarios.
  mkdirSync(join(fresh, 'schema'));
  const { reportJsonSchema } = await import(pathToFileURL(join(fresh, 'report/report-schema.js')).href);
  const { scenarioJsonSchema } = await import(pathToFileURL(join(fresh, 'plan/scenario-schema.js')).href);
  writeFileSync(join(fresh, 'schema/report.json'), `${JSON.stringify(reportJsonSchema(), null, 2)}\n`);
  writeFileSync(join(fresh, 'schema/scenario.json'), `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
  writeFileSync(join(fresh, '.built'), `${new Date().toISOString()}\n`);
  if (existsSync(join(root, 'dist'))) renameSync(join(root, 'dist'), old);
  renameSync(fresh, join(root, 'dist'));
  rmSync(old, { recursive: true, force: true });
}
