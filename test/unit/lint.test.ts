// `npm run lint` fails on what it is there to catch: a planted lint finding and a planted formatting difference,
// each in a file of its own checked with the project's biome.jsonc, while a clean file passes.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/core/paths.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const LINT_SCRIPT: string = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).scripts.lint;
const BIOME = join(PACKAGE_ROOT, 'node_modules/.bin/biome');

/** The lint script's own command on one file written into a fresh directory, with the project's configuration. */
function lintFile(source: string): { status: number | null; output: string } {
  const dir = tempDir();
  writeFileSync(join(dir, 'planted.ts'), source);
  const args = [
    ...LINT_SCRIPT.split(' ').slice(1),
    `--config-path=${join(PACKAGE_ROOT, 'biome.jsonc')}`,
    '--colors=off',
    'planted.ts',
  ];
  const r = spawnSync(BIOME, args, { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

const CLEAN = 'export function same(a: number, b: string): boolean {\n  return a === Number(b);\n}\n';

describe('npm run lint', () => {
  it('is biome ci, warnings counted as failures', () => {
    expect(LINT_SCRIPT.split(' ')).toEqual(['biome', 'ci', '--error-on-warnings']);
  });

  it('passes a clean file', () => {
    const r = lintFile(CLEAN);
    expect(r.output).toMatch(/Checked 1 file/);
    expect(r.status).toBe(0);
  });

  it('fails on a planted lint finding, naming the rule', () => {
    const r = lintFile(CLEAN.replace('===', '=='));
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/lint\/suspicious\/noDoubleEquals/);
  });

  it('fails on a planted formatting difference: double quotes, where the style is single', () => {
    const r = lintFile(`${CLEAN}export const name = "waitlab";\n`);
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/format/);
    expect(r.output).toMatch(/File content differs from formatting output/);
  });
});
