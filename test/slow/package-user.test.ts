// A package user's day, from a project of their own with no waitlab checkout around it: the packed tarball
// installed with npm (its dependencies from the registry), then npx waitlab --help, list, a catalogue scenario,
// their own scenario file importing 'waitlab', a baseline made there and compare against it, report, doctor on a
// network namespace, and the GitHub Action's shell steps run as GitHub runs them, each with its exit code.
// Assumes dist/ is built (`npm test` builds first).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PACKAGE_ROOT } from '../../src/core/paths.ts';
import { cleanEnv, must, packWaitlab, QUICK, run, type Ran } from '../helpers/npm-project.ts';
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
  if (!existsSync(join(PACKAGE_ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  tarball = await packWaitlab(temp('waitlab-pack-'));
  project = temp('waitlab-user-project-');
  // Nothing up the tree may resolve 'waitlab' or hold a checkout: the project alone has it.
  for (let d = dirname(project); ; d = dirname(d)) {
    expect(existsSync(join(d, 'package.json')), `${d}/package.json`).toBe(false);
    expect(existsSync(join(d, 'node_modules')), `${d}/node_modules`).toBe(false);
    if (dirname(d) === d) break;
  }
  writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'user-project', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`);
  await must('npm', ['install', '--save-dev', tarball, ...QUICK], project);
  // The example a user starts from: a scenario of their own and its baseline, as the package ships them.
  cpSync(join(project, 'node_modules/waitlab/examples/ci'), join(project, 'ci/waitlab'), { recursive: true });
}, 180_000);

afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** The test cases of a junit.xml, each with its failure message where it failed. */
function junitCases(file: string): { name: string; failure?: string }[] {
  const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'testsuite' || name === 'testcase' }).parse(readFileSync(file, 'utf8'));
  const suites = (xml.testsuites?.testsuite ?? xml.testsuite ?? []) as { testcase?: { name: string; failure?: unknown }[] }[];
  return suites.flatMap((s) => s.testcase ?? []).map((c) => ({ name: c.name, ...(c.failure !== undefined ? { failure: JSON.stringify(c.failure) } : {}) }));
}

describe('npx waitlab in a project that installed the tarball', () => {
  it('--help: exit 0, naming the commands', async () => {
    const ran = await npx(['--help']);
    expect(ran.code).toBe(0);
    for (const command of ['scenario <scenario>', 'compare <baseline> <current>', 'baseline <scenario>', 'report <dir>', 'doctor']) expect(ran.stdout).toContain(command);
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
    expect(report.environment.waitlab).toBe(JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).version);
    expect(report.actors.flood.errorCount).toBe(0);
  });
});

describe('a scenario of the user\'s own, a baseline made in the project, compare and report', () => {
  const scenario = 'ci/waitlab/scenario.ts';
  const baseline = 'baselines/port-budget-ci';

  it('baseline --runs 2: exit 0, the kernel\'s counts the same in both runs', async () => {
    const ran = await npx(['baseline', scenario, '--runs', '2', '--out', baseline]);
    expect(ran.code, ran.stderr).toBe(0);
    const metrics = JSON.parse(readFileSync(join(project, baseline, 'baseline.json'), 'utf8')).metrics;
    expect(metrics['actors.flood.ok']).toBe(500);
    expect(metrics['actors.flood.errors.EADDRNOTAVAIL.count']).toBe(300);
    expect(metrics['hosts.client.peak.total.TIME_WAIT']).toBe(500);
  }, 120_000);

  it('compare with a run like it: exit 0; with a run of 700 requests (200 EADDRNOTAVAIL): exit 5, naming the metric', async () => {
    expect((await npx(['scenario', scenario, '--out', 'runs/same', '--no-progress'])).code).toBe(0);
    expect((await npx(['scenario', scenario, '--set', 'requests=700', '--out', 'runs/fewer', '--no-progress'])).code).toBe(0);
    const same = await npx(['compare', baseline, 'runs/same']);
    expect(same.code, same.stderr).toBe(0);
    const fewer = await npx(['compare', baseline, 'runs/fewer', '--json']);
    expect(fewer.code).toBe(5);
    const regressed = (JSON.parse(fewer.stdout) as { metrics: { path: string; verdict: string; current: number }[] }).metrics.filter((m) => m.verdict === 'regression');
    expect(regressed).toContainEqual(expect.objectContaining({ path: 'actors.flood.errors.EADDRNOTAVAIL.count', current: 200 }));
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
  it('exit 3 before anything is made: the image is missing and npm hoisted the dependencies its Dockerfile copies', async () => {
    const image = 'localhost/waitlab-pkgtest-absent:none';
    const ran = await npx(['scenario', 'short-conn', '--driver', 'compose', '--image', image, '--no-progress']);
    expect(ran.code).toBe(3);
    expect(ran.stderr).toContain(`image ${image} is not there, and it cannot be built from ${join(realpathSync(project), 'node_modules/waitlab')}`);
    expect(ran.stderr).toContain('or name an image that is there with --image NAME (or WAITLAB_IMAGE)');
  });

  it('exit 2 on an --image that is not an image name, before any lab', async () => {
    const ran = await npx(['scenario', 'short-conn', '--driver', 'compose', '--image', 'Not An Image', '--no-progress']);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain('--image (WAITLAB_IMAGE) "Not An Image" is not an image reference');
  });
});

describe('doctor on a network namespace', () => {
  const netns = `wlpkgtest${process.pid}`;
  afterAll(() => {
    execFileSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
  });

  it('exit 0 on an empty namespace: nothing near a limit', async () => {
    execFileSync('ip', ['netns', 'add', netns]);
    const ran = await npx(['doctor', '--netns', netns, '--for', '1s']);
    expect(ran.stdout + ran.stderr).toContain(`waitlab doctor: host ${netns}, 0 TCP sockets`);
    expect(ran.code).toBe(0);
  });
});

// The action's shell steps as GitHub runs a composite action's: bash --noprofile --norc -eo pipefail, the inputs
// and earlier steps' outputs rendered into env, a fresh GITHUB_OUTPUT per step, GITHUB_STEP_SUMMARY and RUNNER_TEMP
// of the job. The `uses:` steps are GitHub's own (setup-node, the JUnit report, the upload); the files they would
// read are checked instead.
interface ActionStep {
  name: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}
interface ActionRun {
  code: number | null;
  log: string;
  summary: string;
  outputs: Record<string, Record<string, string>>;
}

async function runAction(inputs: Record<string, string>): Promise<ActionRun> {
  const action = parse(readFileSync(join(project, 'node_modules/waitlab/action.yml'), 'utf8')) as { inputs: Record<string, { default?: string }>; runs: { steps: ActionStep[] } };
  const given: Record<string, string> = {};
  for (const [name, input] of Object.entries(action.inputs)) given[name] = inputs[name] ?? input.default ?? '';
  const job = temp('waitlab-job-');
  const runnerTemp = join(job, 'runner-temp');
  mkdirSync(runnerTemp);
  const summaryFile = join(job, 'step-summary.md');
  writeFileSync(summaryFile, '');
  const outputs: Record<string, Record<string, string>> = {};
  const render = (text: string) =>
    text.replace(/\$\{\{ ([\w.-]+) \}\}/g, (_, expr: string) => {
      const [scope, a, b, c] = expr.split('.');
      if (scope === 'inputs' && a! in given) return given[a!]!;
      if (scope === 'steps' && b === 'outputs') return outputs[a!]?.[c!] ?? '';
      throw new Error(`an expression this test does not know: ${expr}`);
    });
  const condition = (expr: string | undefined): boolean => {
    if (expr === undefined) return true;
    const m = /^inputs\.([\w-]+) (==|!=) '([^']*)'$/.exec(expr);
    if (!m) throw new Error(`a condition this test does not know: ${expr}`);
    return (given[m[1]!] === m[3]) === (m[2] === '==');
  };
  let log = '';
  for (const step of action.runs.steps) {
    if (step.run === undefined || !condition(step.if)) continue;
    const outputFile = join(job, `output-${step.id ?? step.name.replace(/\W/g, '')}`);
    writeFileSync(outputFile, '');
    const script = join(job, `step-${step.id ?? step.name.replace(/\W/g, '')}.sh`);
    writeFileSync(script, step.run);
    const env = cleanEnv({
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_WORKSPACE: project,
      GITHUB_ACTION_PATH: join(project, 'node_modules/waitlab'),
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
      RUNNER_TEMP: runnerTemp,
      ...Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, render(v)])),
    });
    const ran = await run('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], project, env);
    log += `== ${step.name}: exit ${ran.code}\n${ran.stdout}${ran.stderr}`;
    outputs[step.id ?? step.name] = Object.fromEntries(
      readFileSync(outputFile, 'utf8').split('\n').filter(Boolean).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    if (ran.code !== 0) return { code: ran.code, log, summary: readFileSync(summaryFile, 'utf8'), outputs };
  }
  return { code: 0, log, summary: readFileSync(summaryFile, 'utf8'), outputs };
}

describe('the GitHub Action\'s shell steps, run locally', () => {
  const runsDirs: string[] = [];
  afterAll(() => {
    for (const dir of runsDirs) rmSync(dir, { recursive: true, force: true });
  });
  const track = (done: ActionRun): ActionRun => {
    if (done.outputs['run']?.['runs']) runsDirs.push(done.outputs['run']['runs']);
    return done;
  };

  it('a run within its baseline: exit 0, "PASS (exit 0)" heading the summary, waitlab installed from the tarball into RUNNER_TEMP', async () => {
    const done = track(await runAction({ scenarios: 'ci/waitlab/scenario.ts\n', baselines: 'ci/waitlab/baselines', package: tarball }));
    expect(done.code, done.log).toBe(0);
    expect(done.outputs['install']!['bin']).toMatch(/\/runner-temp\/waitlab-install\/node_modules\/waitlab\/bin\/waitlab\.js$/);
    expect(done.log).toContain('waitlab setup: all');
    expect(done.summary.split('\n')[0]).toBe('# waitlab: PASS (exit 0)');
    expect(done.summary).toContain('| 1 | `ci/waitlab/scenario.ts` | 0 | PASS: passed its thresholds (and its baseline, where compared) | ci/waitlab/baselines/port-budget-ci |');
    expect(done.outputs['run']!['exit-code']).toBe('0');
    const cases = junitCases(join(done.outputs['run']!['runs']!, '1-port-budget-ci/junit.xml'));
    expect(cases.length).toBeGreaterThan(2);
    expect(cases.filter((c) => c.failure)).toEqual([]);
  }, 180_000);

  it('a regression against the baseline: exit 5 and "REGRESSION (exit 5)" heading the summary, never PASS', async () => {
    const done = track(await runAction({ scenarios: 'ci/waitlab/scenario.ts --set requests=700', baselines: 'ci/waitlab/baselines', setup: 'false' }));
    expect(done.code, done.log).toBe(5);
    expect(done.outputs['install']!['bin']).toBe(join(project, 'node_modules/waitlab/bin/waitlab.js'));
    expect(done.summary.split('\n')[0]).toBe('# waitlab: REGRESSION (exit 5)');
    expect(done.summary).toContain('## 1. port-budget-ci: REGRESSION (exit 5)');
    expect(done.log).toMatch(/^::error title=waitlab port-budget-ci%3A regression::actors\.flood\.errors\.EADDRNOTAVAIL\.count: 200 against baseline 300/m);
    const failed = junitCases(join(done.outputs['run']!['runs']!, '1-port-budget-ci/junit.xml')).filter((c) => c.failure);
    expect(failed.map((c) => c.name).join('\n')).toMatch(/EADDRNOTAVAIL/);
  }, 120_000);

  it('a failed threshold beside a passing run: exit 1, "FAIL (exit 1)", each run\'s row, the failing case in its junit.xml', async () => {
    // 800 requests over 1,000 ports: no EADDRNOTAVAIL, so the scenario's threshold `... EADDRNOTAVAIL.count > 0` fails.
    const done = track(await runAction({ scenarios: 'ci/waitlab/scenario.ts --set ports=40000-40999\nci/waitlab/scenario.ts', baselines: 'ci/waitlab/baselines', setup: 'false' }));
    expect(done.code, done.log).toBe(1);
    expect(done.summary.split('\n')[0]).toBe('# waitlab: FAIL (exit 1)');
    expect(done.summary).toContain('| 1 | `ci/waitlab/scenario.ts --set ports=40000-40999` | 1 | FAIL: a threshold failed |');
    expect(done.summary).toContain('| 2 | `ci/waitlab/scenario.ts` | 0 | PASS:');
    const runs = done.outputs['run']!['runs']!;
    const failed = junitCases(join(runs, '1-port-budget-ci/junit.xml')).filter((c) => c.failure);
    expect(failed.map((c) => c.name)).toContainEqual(expect.stringMatching(/EADDRNOTAVAIL.*> 0/));
    expect(junitCases(join(runs, '2-port-budget-ci/junit.xml')).filter((c) => c.failure)).toEqual([]);
  }, 120_000);

  it('a scenario that does not exist: exit 2, "ERROR (exit 2)", no lab run', async () => {
    const done = track(await runAction({ scenarios: 'no-such-scenario', setup: 'false' }));
    expect(done.code).toBe(2);
    expect(done.summary.split('\n')[0]).toBe('# waitlab: ERROR (exit 2)');
    expect(readdirSync(done.outputs['run']!['runs']!)).toEqual([]);
  });
});
