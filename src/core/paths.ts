// Where the package lives, the same from src/ (tests) and dist/ (the CLI): both sit one level below the root.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SCENARIOS_DIR = resolve(PACKAGE_ROOT, 'scenarios');
/** Compiled JavaScript: what agents and the CLI run, so no TypeScript is compiled at run time. */
export const DIST_DIR = resolve(PACKAGE_ROOT, 'dist');

/** The package's own version, from its package.json. */
export const PACKAGE_VERSION: string = (
  JSON.parse(readFileSync(resolve(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
