// A package user's day, from a project of their own with no waitlab checkout around it: the packed tarball
// installed with npm (its dependencies from the registry), then npx waitlab --help, list, a catalogue scenario,
// their own scenario file importing 'waitlab', a baseline made there and compare against it, report, doctor on a
// network namespace, and the GitHub Action's shell steps run as GitHub runs them, each with its exit code.
// Assumes dist/ is built (`npm test` builds first).
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/core/paths.ts';
import { must, packWaitlab, QUICK, run, type Ran } from '../helpers/npm-project.ts';
import { buildTestBaseImage, TEST_BASE_IMAGE } from '../helpers/container-image.ts';
import { describeWithTools } from '../helpers/tools.ts';

const temps: string[] = [];
function temp(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

let tarball: string;
let project: string;
const npx = (args: string[]): Promise<Ran> => run('npx', ['--no-install', 'waitlab', ...args], project);

beforeAll(async () => {
  if (!existsSync(join(PACKAGE_ROOT, 'dist/cli/main.js')))
    throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  tarball = await packWaitlab(temp('waitlab-pack-'));
  project = temp('waitlab-user-project-');
  // Nothing up the tree may resolve 'waitlab' or hold a checkout: the project alone has it.
  for (let d = dirname(project); ; d = dirname(d)) {
    expect(existsSync(join(d, 'package.json')), `${d}/package.json`).toBe(false);
    expect(existsSync(join(d, 'node_modules')), `${d}/node_modules`).toBe(false);
    if (dirname(d) === d) break;
  }
  writeFileSync(
    join(project, 'package.json'),
    `${JSON.stringify({ name: 'user-project', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`,
  );
  await must('npm', ['install', '--save-dev', tarball, ...QUICK], project);
  // The example a user starts from: a scenario of their own and its baseline, as the package ships them.
  cpSync(join(project, 'node_modules/waitlab/examples/ci'), join(project, 'ci/waitlab'), { recursive: true });
}, 180_000);

afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** The test cases of a junit.xml, each with its failure message where it failed. */
function junitCases(file: string): { name: string; failure?: string }[] {
  const xml = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    isArray: (name) => name === 'testsuite' || name === 'testcase',
  }).parse(readFileSync(file, 'utf8'));
  const suites = (xml.testsuites?.testsuite ?? xml.testsuite ?? []) as {
    testcase?: { name: string; failure?: unknown }[];
  }[];
  return suites
    .flatMap((s) => s.testcase ?? [])
    .map((c) => ({ name: c.name, ...(c.failure !== undefined ? { failure: JSON.stringify(c.failure) } : {}) }));
}

describe('npx waitlab in a project that installed the tarball', () => {
  it('--help: exit 0, naming the commands', async () => {
    const ran = await npx(['--help']);
    expect(ran.code).toBe(0);
    for (const command of [
      'scenario <scenario>',
      'compare <baseline> <current>',
      'baseline <scenario>',
      'report <dir>',
      'doctor',
    ])
      expect(ran.stdout).toContain(command);
  });

  it('list: exit 0, the catalogue from the installed package', async () => {
    const ran = await npx(['list']);
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/^short-conn +\S.*EADDRNOTAVAIL/m);
  });

  it('scenario short-conn --set duration=2s: exit 0 (600 connections fit the 1,000-port range), its report in the project', async () => {
    const ran = await npx(['scenario', 'short-conn', '--set', 'duration=2s', '--no-progress']);
    expect(ran.code, ran.stderr).toBe(0);
    const runs = readdirSync(join(project, 'reports/short-conn'));
    expect(runs).toHaveLength(1);
    const report = JSON.parse(readFileSync(join(project, 'reports/short-conn', runs[0]!, 'report.json'), 'utf8'));
    expect(report.verdict).toBe('pass');
    expect(report.environment.waitlab).toBe(
      JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).version,
    );
    expect(report.actors.flood.errorCount).toBe(0);
  });
});

describe("a scenario of the user's own, a baseline made in the project, compare and report", () => {
  const scenario = 'ci/waitlab/scenario.ts';
  const baseline = 'baselines/port-budget-ci';

  it("baseline --runs 2: exit 0, the kernel's counts the same in both runs", async () => {
    const ran = await npx(['baseline', scenario, '--runs', '2', '--out', baseline]);
    expect(ran.code, ran.stderr).toBe(0);
    const metrics = JSON.parse(readFileSync(join(project, baseline, 'baseline.json'), 'utf8')).metrics;
    expect(metrics['actors.flood.ok']).toBe(500);
    expect(metrics['actors.flood.errors.EADDRNOTAVAIL.count']).toBe(300);
    expect(metrics['hosts.client.peak.total.TIME_WAIT']).toBe(500);
  }, 120_000);

  it('compare with a run like it: exit 0; with a run of 700 requests (200 EADDRNOTAVAIL): exit 5, naming the metric', async () => {
    expect((await npx(['scenario', scenario, '--out', 'runs/same', '--no-progress'])).code).toBe(0);
    expect(
      (await npx(['scenario', scenario, '--set', 'requests=700', '--out', 'runs/fewer', '--no-progress'])).code,
    ).toBe(0);
    const same = await npx(['compare', baseline, 'runs/same']);
    expect(same.code, same.stderr).toBe(0);
    const fewer = await npx(['compare', baseline, 'runs/fewer', '--json']);
    expect(fewer.code).toBe(5);
    const regressed = (
      JSON.parse(fewer.stdout) as { metrics: { path: string; verdict: string; current: number }[] }
    ).metrics.filter((m) => m.verdict === 'regression');
    expect(regressed).toContainEqual(
      expect.objectContaining({ path: 'actors.flood.errors.EADDRNOTAVAIL.count', current: 200 }),
    );
  }, 120_000);

  it('report: exit 0, every output written again from report.json', async () => {
    const dir = join(project, 'runs/same');
    rmSync(join(dir, 'summary.md'));
    rmSync(join(dir, 'junit.xml'));
    const ran = await npx(['report', 'runs/same']);
    expect(ran.code, ran.stderr).toBe(0);
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toMatch(/^# port-budget-ci: PASS/);
    expect(junitCases(join(dir, 'junit.xml')).filter((c) => c.failure)).toEqual([]);
  });
});

describeWithTools(['podman', 'runc', 'docker-compose'], 'the compose lab from a project install', () => {
  const image = 'localhost/waitlab-pkgtest:built';
  const removeImage = () => spawnSync('podman', ['rmi', '--force', image], { stdio: 'ignore' });
  beforeAll(() => {
    removeImage();
    buildTestBaseImage();
  }, 600_000);
  afterAll(removeImage);

  it('builds the missing image from the package, staging the dependencies npm hoisted into the project, and runs', async () => {
    const staged = () => new Set(readdirSync(tmpdir()).filter((f) => f.startsWith('waitlab-image-')));
    const before = staged();
    const ran = await npx([
      'scenario',
      'short-conn',
      '--driver',
      'compose',
      '--image',
      image,
      '--base-image',
      TEST_BASE_IMAGE,
      '--set',
      'duration=2s',
      '--no-progress',
    ]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stderr).toMatch(
      new RegExp(
        `building image ${image} from ${join(realpathSync(project), 'node_modules/waitlab/Dockerfile')} .*; \\d+ dependencies npm installed outside the package are copied into a staged context`,
      ),
    );
    // The staged context is gone after the build.
    expect([...staged()].filter((f) => !before.has(f))).toEqual([]);
  }, 900_000);

  it('exit 2 on an --image that is not an image name, before any lab', async () => {
    const ran = await npx([
      'scenario',
      'short-conn',
      '--driver',
      'compose',
      '--image',
      'Not An Image',
      '--no-progress',
    ]);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain('--image (WAITLAB_IMAGE) "Not An Image" is not an image reference');
  });
});
