// The compose lab's image has one name wherever it is chosen: `scenario --driver compose` (--image, passed on as
// WAITLAB_IMAGE to the driver), `waitlab compose` (--image, else WAITLAB_IMAGE) and the driver itself, with one
// default and one error that names both the flag and the variable.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { composeCommand } from '../../../src/cli/compose-command.ts';
import { EXIT, exitCodeFor } from '../../../src/cli/exit-codes.ts';
import { PACKAGE_ROOT, PACKAGE_VERSION } from '../../../src/core/paths.ts';
import { baseImage, DEFAULT_BASE_IMAGE, DEFAULT_LAB_IMAGE, dependenciesOutside, labImage } from '../../../src/lab/lab-image.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const saved = { image: process.env['WAITLAB_IMAGE'], base: process.env['WAITLAB_BASE_IMAGE'] };
afterEach(() => {
  for (const [key, value] of [['WAITLAB_IMAGE', saved.image], ['WAITLAB_BASE_IMAGE', saved.base]] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

async function imagesOfComposeFile(image?: string): Promise<Set<string>> {
  const out = join(tempDir('waitlab-image-'), 'docker-compose.yml');
  await composeCommand({ scenario: 'short-conn', set: [], sysctl: [], scale: [], out, ...(image === undefined ? {} : { image }) });
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

  it('builds on --base-image (WAITLAB_BASE_IMAGE) or the Dockerfile\'s default, refusing a malformed one the same way', () => {
    delete process.env['WAITLAB_BASE_IMAGE'];
    expect(baseImage()).toBe(DEFAULT_BASE_IMAGE);
    process.env['WAITLAB_BASE_IMAGE'] = 'localhost/node20:local';
    expect(baseImage()).toBe('localhost/node20:local');
    expect(() => baseImage('no good')).toThrow('--base-image (WAITLAB_BASE_IMAGE) "no good" is not an image reference');
  });
});

describe('what the Dockerfile\'s build context holds', () => {
  it('has every runtime dependency in a checkout after npm ci', () => {
    expect(dependenciesOutside(PACKAGE_ROOT)).toEqual([]);
  });

  it('names the dependencies a package root lacks, as in a project where npm hoisted them', () => {
    const root = tempDir('waitlab-context-');
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'waitlab', dependencies: { pino: '^10', '@types/node': '^20', yargs: '^18' } }));
    mkdirSync(join(root, 'node_modules/pino'), { recursive: true });
    writeFileSync(join(root, 'node_modules/pino/package.json'), '{}');
    // A directory without its package.json is not an installed package.
    mkdirSync(join(root, 'node_modules/yargs'), { recursive: true });
    expect(dependenciesOutside(root)).toEqual(['@types/node', 'yargs']);
  });
});
