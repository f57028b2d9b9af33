// The compose lab, really run: Podman (root) driven by docker-compose through a private `podman system service`,
// containers from an image built here FROM scratch out of this machine's own binaries, and the same plan, agents
// and report as the netns lab. After every run nothing of it may be left: no container, network, volume, CNI
// file, lab directory or service process, and the machine's ip_forward and nftables ruleset as they were.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/controller/run-scenario.ts';
import { PACKAGE_ROOT } from '../../src/core/paths.ts';
import { COMPOSE_LABS_DIR } from '../../src/lab/compose-driver.ts';
import { removeCniNetwork, writeCniNetwork } from '../../src/lab/container-network.ts';
import { composeDriver } from '../../src/lab/compose-driver.ts';
import { loadPlan } from '../../src/plan/load-plan.ts';
import {
  buildTestBaseImage,
  removeTestImages,
  TEST_BASE_IMAGE,
  WAITLAB_TEST_IMAGE,
} from '../helpers/container-image.ts';
import { cniLeftovers, describeContainerLab, entries, labelled, machineState, sh } from '../helpers/container-lab.ts';
import { runCli, runShort, tempDir, until, type TestReport } from '../helpers/lab.ts';

/** Everything a compose lab could leave behind, by kind; empty lists when it left nothing. */
function leftovers() {
  return {
    containers: labelled('ps', '{{.Names}}'),
    networks: labelled('network'),
    volumes: labelled('volume'),
    ...cniLeftovers(/^wl\d+c\d+$/),
    labDirs: entries(COMPOSE_LABS_DIR),
    services: sh('ps', ['-eo', 'args'])
      .split('\n')
      .filter((a) => a.startsWith('podman system service') && a.includes(COMPOSE_LABS_DIR)),
  };
}

const NOTHING = { containers: [], networks: [], volumes: [], cniFiles: [], bridges: [], labDirs: [], services: [] };

describeContainerLab('compose lab', ['podman', 'runc', 'docker-compose', 'nft'], () => {
  let before: ReturnType<typeof machineState>;
  const env = { ...process.env, WAITLAB_IMAGE: WAITLAB_TEST_IMAGE };

  // Only the base is made here: the driver builds the lab image itself on the first run, as a user's would.
  beforeAll(() => {
    before = machineState();
    removeTestImages();
    buildTestBaseImage();
    process.env['WAITLAB_IMAGE'] = WAITLAB_TEST_IMAGE;
  }, 600_000);

  afterAll(() => {
    delete process.env['WAITLAB_IMAGE'];
    removeTestImages();
  });

  afterEach(() => {
    expect(leftovers()).toEqual(NOTHING);
    expect(machineState()).toEqual(before);
  });

  it('with no base image to be had, exits 3 naming --base-image, and builds nothing', async () => {
    const image = 'localhost/waitlab-test-unbuilt:none';
    const run = runCli([
      'scenario',
      'short-conn',
      '--driver',
      'compose',
      '--image',
      image,
      '--base-image',
      'localhost/waitlab-test-no-such-base:none',
      '--no-progress',
    ]);
    expect(await run.exit).toBe(3);
    expect(run.stderr()).toContain('could not be pulled');
    expect(run.stderr()).toContain('--base-image');
    expect(spawnSync('podman', ['image', 'exists', image]).status).toBe(1);
  }, 180_000);

  it('builds the missing lab image from the Dockerfile on the base given, says so, and runs', async () => {
    const run = runCli([
      'scenario',
      'short-conn',
      '--driver',
      'compose',
      '--base-image',
      TEST_BASE_IMAGE,
      '--set',
      'duration=2s',
      '--out',
      tempDir(),
      '--no-progress',
    ]);
    const code = await run.exit;
    expect(run.stderr()).toContain(
      `waitlab: building image ${WAITLAB_TEST_IMAGE} from ${PACKAGE_ROOT}/Dockerfile on ${TEST_BASE_IMAGE}`,
    );
    expect(code).toBe(0);
    expect(spawnSync('podman', ['image', 'exists', WAITLAB_TEST_IMAGE]).status).toBe(0);
  }, 600_000);

  it('short-conn: the same exhaustion as the netns run, from the kernels of the containers', async () => {
    const compose = (
      await runScenario(await loadPlan('short-conn', {}, { driver: 'compose' }), {
        outDir: tempDir(),
        driver: composeDriver,
      })
    ).report as TestReport;
    const netns = (await runShort('short-conn')).report;
    expect(compose.verdict).toBe('pass');
    expect(compose.environment.driver).toBe('compose');
    expect(compose.environment.labTools?.join(' ')).toMatch(/podman version 4\.\d+\.\d+.*docker-compose 1\.\d+/);
    expect(compose.environment.labTools).toContain(`image ${WAITLAB_TEST_IMAGE}`);
    // Each host's sysctls were written by the runtime in the container's own network namespace, and read back there.
    expect(compose.hosts['client']!.sysctls['net.ipv4.ip_local_port_range']).toBe('40000 40999');
    expect(compose.hosts['server']!.sysctls['net.ipv4.ip_local_port_range']).toBe(
      netns.hosts['server']!.sysctls['net.ipv4.ip_local_port_range'],
    );
    for (const report of [compose, netns]) {
      const flood = report.actors['flood']!;
      // Errors by code: EADDRNOTAVAIL from connect() only, after every port of the 1,000-port budget connected once.
      expect(Object.keys(flood['errors'])).toEqual(['EADDRNOTAVAIL']);
      expect(flood['errors']['EADDRNOTAVAIL'].syscalls).toEqual({ connect: flood['errors']['EADDRNOTAVAIL'].count });
      expect(flood['connected']).toBe(1000);
      expect(report.hosts['client']!.peak.total.TIME_WAIT).toBe(1000);
      expect(report.hosts['client']!.peak.sockstatTw).toBe(1000);
      expect(report.predictions['flood']!.exhaustion!.ratio).toBeGreaterThanOrEqual(0.8);
      expect(report.predictions['flood']!.exhaustion!.ratio).toBeLessThanOrEqual(1.2);
    }
  }, 180_000);

  it('proxy-short-upstream: nginx in its container logs "(99: Cannot assign requested address)"', async () => {
    const { report } = (await runScenario(await loadPlan('proxy-short-upstream', {}, { driver: 'compose' }), {
      outDir: tempDir(),
      driver: composeDriver,
    })) as unknown as { report: TestReport };
    expect(report.verdict).toBe('pass');
    const log = report.actors['proxy']!['errorLog'];
    expect(log.causes.portsExhausted).toBeGreaterThan(0);
    expect(JSON.stringify(log)).toContain('(99: Cannot assign requested address)');
    expect(report.hosts['proxy']!.peak.ephemeral.TIME_WAIT).toBe(1000);
    expect(report.actors['flood']!['statuses']['502']).toBe(log.causes.portsExhausted);
  }, 180_000);

  it('--scale client=3: three client containers, each its own port budget, merged into one report per replica and in total', async () => {
    const plan = await loadPlan('short-conn', {}, { driver: 'compose', scale: { client: 3 } });
    const { report } = (await runScenario(plan, { outDir: tempDir(), driver: composeDriver })) as unknown as {
      report: TestReport;
    };
    expect(report.verdict).toBe('pass');
    const group = report.replicas!['client']!;
    expect(group.hosts).toEqual(['client', 'client_2', 'client_3']);
    expect(new Set(group.hosts.map((h) => report.hosts[h]!.address)).size).toBe(3);
    expect(group.timeWaitPeaks).toEqual([1000, 1000, 1000]);
    const copies = group.actors['flood']!.replicas.map((name) => report.actors[name]!);
    for (const copy of copies) {
      expect(copy['connected']).toBe(1000);
      expect(Object.keys(copy['errors'])).toEqual(['EADDRNOTAVAIL']);
    }
    const total = group.actors['flood']!;
    expect(total.connected).toBe(3000);
    expect(total.attempts).toBe(copies.reduce((a, c) => a + c['attempts'], 0));
    expect(total.errors['EADDRNOTAVAIL']).toBe(copies.reduce((a, c) => a + c['errors']['EADDRNOTAVAIL'].count, 0));
    expect(total.errors['EADDRNOTAVAIL']).toBe(total.attempts - 3000);
  }, 180_000);

  it('refuses a scenario of several networks before anything exists, naming the netns driver (exit 3)', async () => {
    const cli = runCli(
      ['scenario', 'nat-single-source', '--driver', 'compose', '--no-progress', '--out', resolve(tempDir(), 'run')],
      { env },
    );
    expect(await cli.exit).toBe(3);
    expect(cli.stderr()).toMatch(/declares networks .*use --driver netns/);
  }, 60_000);

  it('SIGTERM mid-run: exit 143, a report, and the lab gone', async () => {
    const dir = resolve(tempDir(), 'run');
    const cli = runCli(
      [
        'scenario',
        'short-conn',
        '--driver',
        'compose',
        '--set',
        'duration=20s',
        '--set',
        'rate=50/s',
        '--no-progress',
        '--out',
        dir,
      ],
      { env },
    );
    await until(
      () =>
        existsSync(join(dir, 'samples.ndjson')) &&
        readFileSync(join(dir, 'samples.ndjson'), 'utf8').includes('"type":"stats"'),
      'the load to start',
      600,
    );
    expect(leftovers().containers).toHaveLength(2);
    cli.child.kill('SIGTERM');
    expect(await cli.exit).toBe(143);
    expect(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')).verdict).toBe('interrupted');
  }, 120_000);

  it("a controller killed outright leaves containers that `waitlab reap` removes, never a live run's", async () => {
    const dir = resolve(tempDir(), 'run');
    const cli = runCli(
      [
        'scenario',
        'short-conn',
        '--driver',
        'compose',
        '--set',
        'duration=20s',
        '--set',
        'rate=50/s',
        '--no-progress',
        '--out',
        dir,
      ],
      { env },
    );
    await until(
      () =>
        existsSync(join(dir, 'samples.ndjson')) &&
        readFileSync(join(dir, 'samples.ndjson'), 'utf8').includes('"type":"stats"'),
      'the load to start',
      600,
    );
    const live = leftovers();
    expect(live.containers).toHaveLength(2);
    expect(live.labDirs).toEqual([`wl${cli.child.pid}c0`]);
    // A reaper run while its owner lives removes nothing.
    const early = runCli(['reap'], { env });
    expect(await early.exit).toBe(0);
    expect(leftovers().containers).toHaveLength(2);
    cli.child.kill('SIGKILL');
    await cli.exit;
    // Its Podman service dies with it (PR_SET_PDEATHSIG); its containers stay until reaped.
    await until(() => leftovers().services.length === 0, 'the podman service to end');
    expect(leftovers().containers).toHaveLength(2);
    const reap = runCli(['reap'], { env });
    expect(await reap.exit).toBe(0);
    expect(reap.stderr() + reap.stdout()).toContain(`compose lab wl${cli.child.pid}c0`);
  }, 120_000);

  it('docker-compose up of `waitlab compose` runs the scenario through its controller service and leaves the report in ./reports', async () => {
    const dir = tempDir('waitlab-compose-up-');
    const file = join(dir, 'docker-compose.yml');
    // The one difference from the checked-in file: the network. One that compose asks Podman for would chain CNI's
    // firewall plugin into the machine's iptables; this one is the driver's kind, a bare bridge.
    const network = `wl${process.pid}c99`;
    writeCniNetwork(network, '198.18.0.0/24', '198.18.0.254', network);
    const socket = join(dir, 'podman.sock');
    const service = spawn(
      'setpriv',
      ['--pdeathsig', 'KILL', '--', 'podman', 'system', 'service', '--time=0', `unix://${socket}`],
      { stdio: 'ignore' },
    );
    const project = `wlup${process.pid}`;
    const composeEnv = { ...env, DOCKER_HOST: `unix://${socket}` };
    try {
      const written = runCli(
        ['compose', 'proxy-short-upstream', '--image', WAITLAB_TEST_IMAGE, '--network', network, '--out', file],
        { env },
      );
      expect(await written.exit).toBe(0);
      await until(() => existsSync(socket), 'the podman service socket');
      const up = spawn(
        'docker-compose',
        ['--project-name', project, '--file', file, 'up', '--no-build', '--no-color', '--exit-code-from', 'waitlab'],
        { cwd: dir, env: composeEnv, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      up.stdout!.on('data', (d) => (output += d));
      up.stderr!.on('data', (d) => (output += d));
      const code = await new Promise<number | null>((r) => up.once('exit', r));
      // --exit-code-from: compose's own exit code is the controller's, the run's verdict.
      expect(code, output.slice(-4000)).toBe(0);
      const runs = readdirSync(join(dir, 'reports/proxy-short-upstream'));
      expect(runs).toHaveLength(1);
      const report = JSON.parse(
        readFileSync(join(dir, 'reports/proxy-short-upstream', runs[0]!, 'report.json'), 'utf8'),
      ) as TestReport;
      expect(report.verdict).toBe('pass');
      expect(report.environment.driver).toBe('attached');
      // Every request past the proxy's 1,000-port budget: a 502 from nginx's "no free port" (fewer on a busy machine,
      // where the flood reaches fewer requests, but never none).
      expect(report.actors['proxy']!['errorLog'].causes.portsExhausted).toBeGreaterThan(0);
      expect(report.actors['flood']!['statuses']['502']).toBe(
        report.actors['proxy']!['errorLog'].causes.portsExhausted,
      );
      expect(report.hosts['proxy']!.peak.ephemeral.TIME_WAIT).toBe(1000);
    } finally {
      execFileSync(
        'docker-compose',
        ['--project-name', project, '--file', file, 'down', '--volumes', '--timeout', '1'],
        { cwd: dir, env: composeEnv, stdio: 'ignore', timeout: 120_000 },
      );
      await removeCniNetwork(network);
      service.kill('SIGTERM');
      await new Promise((r) => service.once('exit', r));
    }
    expect(
      sh('podman', ['ps', '-a', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Names}}']),
    ).toBe('');
    expect(
      sh('podman', ['volume', 'ls', '--format', '{{.Name}}'])
        .split('\n')
        .filter((v) => v.startsWith(project)),
    ).toEqual([]);
  }, 300_000);
});

describe('the checked-in docker-compose.yml', () => {
  it('is what `waitlab compose proxy-short-upstream` writes, and docker-compose validates it offline', async () => {
    const cli = runCli(['compose', 'proxy-short-upstream']);
    expect(await cli.exit).toBe(0);
    expect(cli.stdout()).toBe(readFileSync(join(PACKAGE_ROOT, 'docker-compose.yml'), 'utf8'));
    execFileSync('docker-compose', ['--file', join(PACKAGE_ROOT, 'docker-compose.yml'), 'config', '--quiet'], {
      stdio: 'pipe',
    });
  }, 60_000);
});
