// The package as users get it: what `npm pack` ships, and the ways they run it: a global install of the
// tarball, `npm link` of the checkout, npx in a project, their own scenario file anywhere on disk, and
// their editor's TypeScript against the installed declarations. Real npm, real installs, real processes.
// Assumes dist/ is built (`npm test` builds first); packs with --ignore-scripts so nothing rebuilds it.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/core/paths.ts';
import { dependenciesToStage } from '../../src/lab/build-context.ts';
import { BIN } from '../helpers/lab.ts';
import { cleanEnv, must, packWaitlab, QUICK, run, type Ran } from '../helpers/npm-project.ts';

const temps: string[] = [];
function temp(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

const TSC = resolve(PACKAGE_ROOT, 'node_modules/typescript/bin/tsc');

/** `waitlab list` printed a short-conn line (and not just a name that starts the same). */
function listsShortConn(ran: Ran): void {
  // npx is npm: it warns on stderr about the machine's npm configuration (~/.npmrc); waitlab says there only which
  // system tools are missing, where some are.
  expect(
    ran.stderr
      .split('\n')
      .filter((line) => line && !line.startsWith('npm warn ') && !line.startsWith('[needs ...]: not installed here')),
  ).toEqual([]);
  expect(ran.code).toBe(0);
  expect(ran.stdout).toMatch(/^short-conn +\S.*EADDRNOTAVAIL/m);
}

let tarball: string;
let files: string[];
let globalPrefix: string; // npm install -g <tarball> --prefix here
let linkPrefix: string; // npm link of the checkout, global prefix here
let project: string; // a user's project with `npm install <tarball>`
let globalRootHadWaitlab: boolean;
let machineGlobalRoot: string;

beforeAll(async () => {
  if (!existsSync(join(PACKAGE_ROOT, 'dist/cli/main.js')))
    throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  const packDir = temp('waitlab-pack-');
  tarball = await packWaitlab(packDir);
  files = (await must('tar', ['-tzf', tarball], packDir)).stdout.split('\n').filter(Boolean);

  machineGlobalRoot = (await must('npm', ['root', '-g'], PACKAGE_ROOT)).stdout.trim();
  globalRootHadWaitlab = existsSync(join(machineGlobalRoot, 'waitlab'));

  globalPrefix = temp('waitlab-global-');
  linkPrefix = temp('waitlab-link-');
  project = temp('waitlab-project-');
  writeFileSync(
    join(project, 'package.json'),
    `${JSON.stringify({ name: 'user-project', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`,
  );
  await Promise.all([
    must('npm', ['install', '-g', tarball, '--prefix', globalPrefix, ...QUICK], globalPrefix),
    // Real `npm link`, kept off the machine: `npm link --prefix <dir>` does not work (a command-line
    // --prefix is also taken as the project folder, so npm reads <dir>/package.json: ENOENT), but
    // npm_config_prefix in the environment moves only the global prefix. --ignore-scripts: linking runs
    // the linked package's `prepare`, which would rebuild dist/ in the checkout. npm link writes nothing
    // in the checkout (it chmods bin/waitlab.js to 0755, which it already is).
    must('npm', ['link', '--ignore-scripts', ...QUICK], PACKAGE_ROOT, cleanEnv({ npm_config_prefix: linkPrefix })),
    must('npm', ['install', tarball, ...QUICK], project),
  ]);
}, 180_000);

afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

describe('npm pack', () => {
  it("ships the launcher, the compiled CLI, agent and library with declarations, the Python actor, the netlink addon's source and the scenarios", () => {
    for (const file of [
      'bin/waitlab.js',
      'dist/cli/main.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/agent/main.js',
      'dist/actors/listener.py',
      'dist/outputs/page-charts.js',
      'native/sock_diag.c',
      'binding.gyp',
      'scripts/build-native.js',
      'scenarios/short-conn.ts',
      'package.json',
      // For package users: the compose lab's image, the GitHub Action, and the examples (a user scenario with its
      // baseline, a workflow).
      'Dockerfile',
      '.dockerignore',
      'action.yml',
      'examples/ci/scenario.ts',
      'examples/ci/baselines/port-budget-ci/baseline.json',
      'examples/github-actions.yml',
    ]) {
      expect(files).toContain(`package/${file}`);
    }
  });

  it('ships no tests, reports, sources or dependencies', () => {
    const strays = files.filter((f) => /^package\/(test|reports|src|node_modules)\//.test(f));
    expect(strays).toEqual([]);
  });
});

describe('npm install -g <tarball>', () => {
  it('puts a symlinked bin on the prefix that lists the scenarios', async () => {
    const bin = join(globalPrefix, 'bin/waitlab');
    expect(realpathSync(bin)).toBe(join(realpathSync(globalPrefix), 'lib/node_modules/waitlab/bin/waitlab.js'));
    listsShortConn(await run(bin, ['list'], globalPrefix));
  });

  it("keeps every runtime dependency inside the package, so its Dockerfile can build the compose lab's image there", () => {
    expect([...dependenciesToStage(join(globalPrefix, 'lib/node_modules/waitlab')).keys()]).toEqual([]);
    expect([...dependenciesToStage(join(project, 'node_modules/waitlab')).keys()]).toContain('pino');
  });

  it('loads its bundled scenarios from the installed copy, not the checkout', async () => {
    const ran = await run(join(globalPrefix, 'bin/waitlab'), ['scenario', 'short-conn', '--dry-run'], globalPrefix);
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
    const plan = JSON.parse(ran.stdout);
    expect(plan.scenario.name).toBe('short-conn');
    expect(plan.scenario.file).toBe(
      join(realpathSync(globalPrefix), 'lib/node_modules/waitlab/scenarios/short-conn.ts'),
    );
  });
});

describe('report.html from the installed copy', () => {
  it("re-renders a run with uPlot from the installed package's own dependencies and its drawing script from dist/", async () => {
    const dir = temp('waitlab-run-');
    for (const [from, to] of [
      ['short-conn.report.json', 'report.json'],
      ['short-conn.samples.ndjson', 'samples.ndjson'],
    ] as const)
      copyFileSync(resolve(PACKAGE_ROOT, 'test/fixtures/runs', from), join(dir, to));
    const ran = await run(join(globalPrefix, 'bin/waitlab'), ['report', dir], temp('waitlab-cwd-'));
    expect(ran.code, ran.stderr).toBe(0);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('/*! https://github.com/leeoniya/uPlot');
    expect(html).toContain('window.waitlabCharts');
  });
});

describe('npm link', () => {
  it("links the checkout's bin into the given prefix only, and it lists the scenarios", async () => {
    const bin = join(linkPrefix, 'bin/waitlab');
    expect(realpathSync(join(linkPrefix, 'lib/node_modules/waitlab'))).toBe(realpathSync(PACKAGE_ROOT));
    expect(realpathSync(bin)).toBe(realpathSync(BIN));
    expect(existsSync(join(machineGlobalRoot, 'waitlab'))).toBe(globalRootHadWaitlab);
    listsShortConn(await run(bin, ['list'], linkPrefix));
  });
});

describe('npx in a project that installed the tarball', () => {
  it("runs the project's waitlab without fetching anything", async () => {
    expect(realpathSync(join(project, 'node_modules/.bin/waitlab'))).toBe(
      join(realpathSync(project), 'node_modules/waitlab/bin/waitlab.js'),
    );
    listsShortConn(await run('npx', ['--no-install', 'waitlab', 'list'], project));
  });
});

describe("a user's own scenario outside any package, run with the global bin", () => {
  let dir: string;
  beforeAll(() => {
    dir = temp('waitlab-user-');
    // The point is that nothing up the tree can resolve 'waitlab' for it: no package.json anywhere above.
    for (let d = dir; ; d = dirname(d)) {
      expect(existsSync(join(d, 'package.json')), `${d}/package.json`).toBe(false);
      expect(existsSync(join(d, 'node_modules')), `${d}/node_modules`).toBe(false);
      if (dirname(d) === d) break;
    }
    writeFileSync(join(dir, 'my-scenario.ts'), userScenario('my-own-scenario'));
    writeFileSync(
      join(dir, 'broken.ts'),
      "import { defineScenario } from 'waitlab';\nexport default defineScenario({ name: 'broken', {{{ });\n",
    );
  });

  it("validates it and prints its plan with --dry-run, 'waitlab' resolving to the installed package", async () => {
    const ran = await run(
      join(globalPrefix, 'bin/waitlab'),
      ['scenario', join(dir, 'my-scenario.ts'), '--dry-run'],
      dir,
    );
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
    const plan = JSON.parse(ran.stdout);
    expect(plan.scenario.name).toBe('my-own-scenario');
    expect(plan.scenario.file).toBe(join(dir, 'my-scenario.ts'));
    expect(plan.params.rate).toBe(50);
    expect(plan.actors.flood.connect.actor).toBe('web');
  });

  it('exits 2 with "cannot load scenario" on a syntax error', async () => {
    const ran = await run(join(globalPrefix, 'bin/waitlab'), ['scenario', join(dir, 'broken.ts'), '--dry-run'], dir);
    expect(ran.code).toBe(2);
    expect(ran.stdout).toBe('');
    expect(ran.stderr).toMatch(/cannot load scenario .*broken\.ts/);
  });
});

describe('TypeScript against the installed declarations', () => {
  // The checkout's tsc, with no tsconfig, as a user's strict NodeNext project would compile; skipLibCheck
  // false so that the installed .d.ts files are checked too. waitlab's public types mention Buffer and
  // NodeJS, so the user's project needs @types/node, as any Node TypeScript project has: the checkout's
  // copy stands in for it (typeRoots) rather than a registry download.
  const tsc = (file: string, ...extra: string[]): Promise<Ran> =>
    run(
      process.execPath,
      [
        TSC,
        '--noEmit',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2022',
        '--strict',
        '--skipLibCheck',
        'false',
        '--typeRoots',
        resolve(PACKAGE_ROOT, 'node_modules/@types'),
        '--types',
        'node',
        ...extra,
        file,
      ],
      join(project, 'scenarios'),
    );

  let compiled: { good: Ran; rateAsString: Ran; unknownHostKey: Ran };

  beforeAll(async () => {
    mkdirSync(join(project, 'scenarios'));
    writeFileSync(join(project, 'scenarios/good.ts'), userScenario('typed-scenario'));
    // p.rate is a number (requests per second) once resolved, not the '50/s' the user wrote.
    writeFileSync(
      join(project, 'scenarios/rate-as-string.ts'),
      userScenario('typed-scenario', { prelude: 'const label: string = p.rate;' }),
    );
    // sysctl for sysctls: a typo the user would otherwise only meet at run time.
    writeFileSync(
      join(project, 'scenarios/unknown-host-key.ts'),
      userScenario('typed-scenario', { client: "{ sysctl: { 'net.ipv4.tcp_tw_reuse': 1 } }" }),
    );
    // One compiler per file, so that no file's errors hide another's; at once, as each checks all of @types/node.
    const [good, rateAsString, unknownHostKey] = await Promise.all([
      tsc('good.ts', '--listFiles'),
      tsc('rate-as-string.ts'),
      tsc('unknown-host-key.ts'),
    ]);
    compiled = { good, rateAsString, unknownHostKey };
  }, 60_000);

  it("takes 'waitlab' from the installed package's dist/index.d.ts, and its .ts-suffixed imports from the .d.ts beside it", () => {
    const ran = compiled.good;
    expect(ran.code).toBe(0);
    const listed = ran.stdout.split('\n').filter(Boolean);
    const installed = join(realpathSync(project), 'node_modules/waitlab/dist');
    // dist/index.d.ts says `export { defineScenario, f } from './core/scenario.ts'`: it must land on core/scenario.d.ts.
    expect(listed).toEqual(
      expect.arrayContaining([
        join(installed, 'index.d.ts'),
        join(installed, 'core/scenario.d.ts'),
        join(installed, 'core/fields.d.ts'),
      ]),
    );
    expect(listed.filter((f) => f.startsWith(PACKAGE_ROOT) && !f.includes('/node_modules/'))).toEqual([]);
  });

  it('compiles a correct scenario, declarations included', () => {
    const ran = compiled.good;
    // --listFiles: stdout is the list of files, one a line, and no diagnostic.
    expect(ran.stdout).not.toMatch(/error TS\d+/);
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
  });

  it('rejects a resolved rate used as a string', () => {
    const ran = compiled.rateAsString;
    expect(ran.code).toBe(2);
    expect(ran.stdout).toMatch(
      /^rate-as-string\.ts\(\d+,\d+\): error TS2322: Type 'number' is not assignable to type 'string'\./m,
    );
    expect(ran.stdout).not.toMatch(/node_modules/);
  });

  it('rejects an unknown key in a host', () => {
    const ran = compiled.unknownHostKey;
    expect(ran.code).toBe(2);
    expect(ran.stdout).toMatch(
      /^unknown-host-key\.ts\(\d+,\d+\): error TS2561: .*'sysctl' does not exist in type 'HostSpec'/m,
    );
    expect(ran.stdout).not.toMatch(/node_modules/);
  });
});

/** A scenario as a user writes it; `prelude` (a statement in build) and `client` break it in one place. */
function userScenario(name: string, { prelude, client = '{}' }: { prelude?: string; client?: string } = {}): string {
  const spec = `{
      hosts: { client: ${client}, server: {} },
      actors: {
        web: { kind: 'http-server', host: 'server', port: 8080 },
        flood: { kind: 'short-conn-client', host: 'client', target: 'web', model: 'open', rate: p.rate, duration: '1s' },
      },
    }`;
  return `import { defineScenario, f } from 'waitlab';

export default defineScenario({
  name: '${name}',
  description: 'a user scenario that imports the package by name',
  params: { rate: f.rate({ default: '50/s' }) },
  build: ${
    prelude === undefined
      ? `(p) => (${spec})`
      : `(p) => {
    ${prelude}
    return ${spec};
  }`
  },
});
`;
}
