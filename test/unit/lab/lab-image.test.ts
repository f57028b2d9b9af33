// The compose lab's image has one name wherever it is chosen: `scenario --driver compose` (--image, passed on as
// WAITLAB_IMAGE to the driver), `waitlab compose` (--image, else WAITLAB_IMAGE) and the driver itself, with one
// default and one error that names both the flag and the variable.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { composeCommand } from '../../../src/cli/compose-command.ts';
import { EXIT, exitCodeFor } from '../../../src/cli/exit-codes.ts';
import { PACKAGE_ROOT, PACKAGE_VERSION } from '../../../src/core/paths.ts';
import { buildContext, dependenciesToStage } from '../../../src/lab/build-context.ts';
import { baseImage, DEFAULT_BASE_IMAGE, DEFAULT_LAB_IMAGE, labImage } from '../../../src/lab/lab-image.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const saved = { image: process.env['WAITLAB_IMAGE'], base: process.env['WAITLAB_BASE_IMAGE'] };
afterEach(() => {
  for (const [key, value] of [
    ['WAITLAB_IMAGE', saved.image],
    ['WAITLAB_BASE_IMAGE', saved.base],
  ] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

async function imagesOfComposeFile(image?: string): Promise<Set<string>> {
  const out = join(tempDir('waitlab-image-'), 'docker-compose.yml');
  await composeCommand({
    scenario: 'short-conn',
    set: [],
    sysctl: [],
    scale: [],
    out,
    ...(image === undefined ? {} : { image }),
  });
  const doc = parse(readFileSync(out, 'utf8')) as { services: Record<string, { image: string }> };
  return new Set(Object.values(doc.services).map((s) => s.image));
}

describe('the compose lab image', () => {
  it('defaults to localhost/waitlab:<version> for the driver and for `waitlab compose` alike', async () => {
    delete process.env['WAITLAB_IMAGE'];
    expect(DEFAULT_LAB_IMAGE).toBe(`localhost/waitlab:${PACKAGE_VERSION}`);
    expect(labImage()).toBe(DEFAULT_LAB_IMAGE);
    expect(await imagesOfComposeFile()).toEqual(new Set([DEFAULT_LAB_IMAGE]));
  });

  it('takes WAITLAB_IMAGE, and --image over it', async () => {
    process.env['WAITLAB_IMAGE'] = 'registry.example/team/waitlab:ci';
    expect(labImage()).toBe('registry.example/team/waitlab:ci');
    expect(await imagesOfComposeFile()).toEqual(new Set(['registry.example/team/waitlab:ci']));
    expect(await imagesOfComposeFile('localhost/mine:1')).toEqual(new Set(['localhost/mine:1']));
  });

  it('refuses a name that is not name[:tag] as a usage error naming --image and WAITLAB_IMAGE', async () => {
    for (const bad of ['Upper:case', 'x y', 'a;rm -rf /', '-flag', 'a:b:c', '']) {
      let thrown: unknown;
      try {
        labImage(bad);
      } catch (err) {
        thrown = err;
      }
      expect(String(thrown), bad).toContain(`--image (WAITLAB_IMAGE) "${bad}" is not an image reference`);
      expect(exitCodeFor(thrown)).toBe(EXIT.INVALID);
    }
    process.env['WAITLAB_IMAGE'] = 'x y';
    await expect(imagesOfComposeFile()).rejects.toThrow('--image (WAITLAB_IMAGE) "x y"');
  });

  it("builds on --base-image (WAITLAB_BASE_IMAGE) or the Dockerfile's default, refusing a malformed one the same way", () => {
    delete process.env['WAITLAB_BASE_IMAGE'];
    expect(baseImage()).toBe(DEFAULT_BASE_IMAGE);
    process.env['WAITLAB_BASE_IMAGE'] = 'localhost/node20:local';
    expect(baseImage()).toBe('localhost/node20:local');
    expect(() => baseImage('no good')).toThrow('--base-image (WAITLAB_BASE_IMAGE) "no good" is not an image reference');
  });
});

/** A package at `dir` with these dependencies (and optional ones). */
function pkg(
  dir: string,
  dependencies: Record<string, string> = {},
  optionalDependencies: Record<string, string> = {},
) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: dir.split('node_modules/').pop(), dependencies, optionalDependencies }),
  );
}

describe("what the Dockerfile's build context holds", () => {
  it('is the package itself in a checkout after npm ci: every runtime dependency is under it', () => {
    expect(dependenciesToStage(PACKAGE_ROOT).size).toBe(0);
    expect(buildContext(PACKAGE_ROOT).dir).toBe(PACKAGE_ROOT);
  });

  it('in a project, stages the package with every dependency npm hoisted out of it, nested ones carried along', () => {
    const project = tempDir('waitlab-context-');
    const root = join(project, 'node_modules/waitlab');
    pkg(root, { pino: '^10', yargs: '^18' }, { '@esbuild/other-os': '1' });
    mkdirSync(join(root, 'dist'));
    writeFileSync(join(root, 'dist/index.js'), '');
    writeFileSync(join(root, 'README.md'), '');
    // yargs stays under waitlab (another version than the project's), and needs cliui, hoisted.
    pkg(join(root, 'node_modules/yargs'), { cliui: '^9' });
    pkg(join(project, 'node_modules/yargs'));
    pkg(join(project, 'node_modules/cliui'));
    // pino is hoisted, with its own sonic-boom nested under it and the project's at the top.
    pkg(join(project, 'node_modules/pino'), { 'sonic-boom': '^4' });
    pkg(join(project, 'node_modules/pino/node_modules/sonic-boom'));
    pkg(join(project, 'node_modules/sonic-boom'));
    expect([...dependenciesToStage(root).keys()].sort()).toEqual(['cliui', 'pino']);

    const context = buildContext(root);
    try {
      expect(context.dir).not.toBe(root);
      expect(context.staged).toBe(2);
      for (const file of [
        'package.json',
        'dist/index.js',
        'node_modules/yargs/package.json',
        'node_modules/cliui/package.json',
        'node_modules/pino/node_modules/sonic-boom/package.json',
      ]) {
        expect(existsSync(join(context.dir, file))).toBe(true);
      }
      // Only what the Dockerfile copies, and not the project's own packages.
      expect(existsSync(join(context.dir, 'README.md'))).toBe(false);
      expect(existsSync(join(context.dir, 'node_modules/sonic-boom'))).toBe(false);
    } finally {
      context.remove();
    }
    expect(existsSync(context.dir)).toBe(false);
  });

  it('refuses a missing required dependency, naming it', () => {
    const root = join(tempDir('waitlab-context-'), 'node_modules/waitlab');
    pkg(root, { pino: '^10' });
    expect(() => dependenciesToStage(root)).toThrow('pino, a dependency of waitlab, is not installed');
  });
});
