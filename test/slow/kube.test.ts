// The kube lab, really run: the pods of `waitlab kube` played by `podman kube play` (root) on a CNI bridge of the
// plan's 198.18.0.0/24 that gives them addresses of its own (as a cluster's CNI), each agent reached over TCP with the run's token, from an image built here FROM scratch out
// of this machine's own binaries. After every run nothing of it may be left (pods, containers, the secret, the CNI
// file and bridge, the lab directory), and the machine's ip_forward and nftables ruleset are as they were.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runScenario } from '../../src/controller/run-scenario.ts';
import { PACKAGE_VERSION } from '../../src/core/paths.ts';
import type { Plan } from '../../src/core/plan.ts';
import { removeCniNetwork, writeCniNetwork } from '../../src/lab/container-network.ts';
import {
  applyPodSysctls,
  KUBE_LABS_DIR,
  kubeDriver,
  podAddress,
  podPid,
  podRange,
  writeContainersConf,
} from '../../src/lab/kube-driver.ts';
import { kubeYaml } from '../../src/lab/kube-file.ts';
import { ensureLabImage } from '../../src/lab/lab-image.ts';
import { loadPlan } from '../../src/plan/load-plan.ts';
import { buildTestBaseImage } from '../helpers/container-image.ts';
import { cniLeftovers, describeContainerLab, entries, labelled, machineState, sh } from '../helpers/container-lab.ts';
import { runCli, runShort, tempDir, until, type TestReport } from '../helpers/lab.ts';

// Tags of this file's own: the compose tests build and remove theirs, perhaps at the same time.
const BASE_IMAGE = 'localhost/waitlab-kube-test-base:scratch';
const IMAGE = `localhost/waitlab-kube-test:${PACKAGE_VERSION}`;
const LAB = /^wl\d+k\d+$/;
// A budget small enough to run out within the flood even where a busy machine halves its rate.
const SHORT = { ports: '40000-40499', rate: '150/s', duration: '8s' };

/** Everything a kube lab could leave behind, by kind; empty lists when it left nothing. */
function leftovers() {
  const ours = (names: string[]) => names.filter((n) => /^wl\d+k\d+-/.test(n));
  return {
    pods: ours(labelled('pod')),
    containers: ours(labelled('ps', '{{.Names}}')),
    secrets: sh('podman', ['secret', 'ls', '--format', '{{.Name}}'])
      .split('\n')
      .filter((n) => /^wl\d+k\d+-token$/.test(n)),
    ...cniLeftovers(LAB),
    labDirs: entries(KUBE_LABS_DIR),
  };
}

const NOTHING = { pods: [], containers: [], secrets: [], cniFiles: [], bridges: [], labDirs: [] };

describeContainerLab('kube lab', ['podman', 'runc', 'catatonit', 'nsenter', 'nft'], () => {
  let before: ReturnType<typeof machineState>;
  const env = { ...process.env, WAITLAB_IMAGE: IMAGE };

  beforeAll(() => {
    before = machineState();
    buildTestBaseImage(BASE_IMAGE);
    process.env['WAITLAB_IMAGE'] = IMAGE;
    process.env['WAITLAB_BASE_IMAGE'] = BASE_IMAGE;
    // Built once for the file, before any test's run (the runs' deadlines count from their labs being built).
    ensureLabImage('podman', IMAGE, () => undefined);
  }, 600_000);

  afterAll(() => {
    delete process.env['WAITLAB_IMAGE'];
    delete process.env['WAITLAB_BASE_IMAGE'];
    for (const image of [IMAGE, BASE_IMAGE]) spawnSync('podman', ['rmi', '--force', image], { stdio: 'ignore' });
  });

  afterEach(() => {
    expect(leftovers()).toEqual(NOTHING);
    expect(machineState()).toEqual(before);
  });

  it('short-conn: the same exhaustion as the netns run, from the kernels of the pods, and the report names what Podman did not honour', async () => {
    const kube = (
      await runScenario(await loadPlan('short-conn', SHORT, { driver: 'kube' }), {
        outDir: tempDir(),
        driver: kubeDriver,
      })
    ).report as TestReport;
    const netns = (await runShort('short-conn', SHORT)).report;
    expect(kube.verdict).toBe('pass');
    expect(kube.environment.driver).toBe('kube');
    expect(kube.environment.labTools).toEqual([
      expect.stringMatching(/^podman version 4\.\d+\.\d+$/),
      'podman kube play',
      'network backend cni',
      `image ${IMAGE}`,
    ]);
    // The CNI gave each pod an address of its own choosing, never the plan's: the flood could only have run out of
    // ports (below) by dialling the server where its agent said it was.
    for (const name of ['client', 'server']) {
      expect(kube.hosts[name]!.plannedAddress).toBe(netns.hosts[name]!.address);
      expect(kube.hosts[name]!.address).toMatch(/^198\.18\.0\.(12[89]|1[3-9]\d|2[0-4]\d|25[0-3])$/);
    }
    expect(kube.scenario.plan.actors['flood']!.connect!.address).toBe(kube.hosts['server']!.address);
    const uncontrolled = kube.environment.uncontrolled!.join('\n');
    // Podman 4.3 leaves a pod's securityContext.sysctls unwritten: the driver wrote them, the agent read them back.
    expect(uncontrolled).toMatch(/podman version 4\.3\.\d+ did not honour the pods' securityContext\.sysctls .*client/);
    expect(uncontrolled).toContain('not played by podman kube play: the Services, ConfigMap and NetworkPolicy');
    expect(kube.hosts['client']!.sysctls['net.ipv4.ip_local_port_range']).toBe('40000 40499');
    expect(kube.hosts['client']!.sysctls['net.ipv4.tcp_rfc1337']).toBe('1');
    expect(kube.hosts['server']!.sysctls['net.ipv4.ip_local_port_range']).toBe(
      netns.hosts['server']!.sysctls['net.ipv4.ip_local_port_range'],
    );
    for (const report of [kube, netns]) {
      const flood = report.actors['flood']!;
      // Errors by code: EADDRNOTAVAIL from connect() only, after every port of the 500-port budget connected once.
      expect(Object.keys(flood['errors'])).toEqual(['EADDRNOTAVAIL']);
      expect(flood['errors']['EADDRNOTAVAIL'].syscalls).toEqual({ connect: flood['errors']['EADDRNOTAVAIL'].count });
      expect(flood['connected']).toBe(500);
      // Client TIME_WAIT equal to its budget; the agents' control connections (port 7411) are in no count.
      expect(report.hosts['client']!.peak.total.TIME_WAIT).toBe(500);
      expect(report.hosts['client']!.peak.sockstatTw).toBe(500);
      expect(report.hosts['server']!.peak.total.TIME_WAIT ?? 0).toBe(0);
      expect(report.predictions['flood']!.exhaustion!.ratio).toBeGreaterThanOrEqual(0.8);
      expect(report.predictions['flood']!.exhaustion!.ratio).toBeLessThanOrEqual(1.2);
    }
  }, 300_000);

  it('proxy-short-upstream: nginx in its pod logs "(99: Cannot assign requested address)" toward the backend\'s learned address', async () => {
    const { report } = (await runScenario(await loadPlan('proxy-short-upstream', {}, { driver: 'kube' }), {
      outDir: tempDir(),
      driver: kubeDriver,
    })) as unknown as { report: TestReport };
    expect(report.verdict).toBe('pass');
    const log = report.actors['proxy']!['errorLog'];
    expect(log.causes.portsExhausted).toBeGreaterThan(0);
    expect(JSON.stringify(log)).toContain('(99: Cannot assign requested address)');
    expect(JSON.stringify(log)).toContain(report.hosts['backend1']!.address);
    expect(report.hosts['proxy']!.peak.ephemeral.TIME_WAIT).toBe(1000);
    expect(report.actors['flood']!['statuses']['502']).toBe(log.causes.portsExhausted);
  }, 300_000);

  it('--scale client=3: three client pods, each its own address and port budget, in a replicas table and in total', async () => {
    const plan = await loadPlan('short-conn', SHORT, { driver: 'kube', scale: { client: 3 } });
    const { report } = (await runScenario(plan, { outDir: tempDir(), driver: kubeDriver })) as unknown as {
      report: TestReport;
    };
    expect(report.verdict).toBe('pass');
    const group = report.replicas!['client']!;
    expect(group.hosts).toEqual(['client', 'client_2', 'client_3']);
    expect(new Set(group.hosts.map((h) => report.hosts[h]!.address)).size).toBe(3);
    expect(group.timeWaitPeaks).toEqual([500, 500, 500]);
    const copies = group.actors['flood']!.replicas.map((name) => report.actors[name]!);
    for (const copy of copies) {
      expect(copy['connected']).toBe(500);
      expect(Object.keys(copy['errors'])).toEqual(['EADDRNOTAVAIL']);
    }
    expect(group.actors['flood']!.connected).toBe(1500);
  }, 300_000);

  it("the file's controller pod: played beside its host pods, it runs the scenario and prints report.json to its log", async () => {
    const dir = tempDir();
    const file = join(dir, 'lab.yaml');
    const cli = runCli(
      [
        'kube',
        'short-conn',
        ...Object.entries(SHORT).flatMap(([k, v]) => ['--set', `${k}=${v}`]),
        '--image',
        IMAGE,
        '--out',
        file,
      ],
      { env },
    );
    expect(await cli.exit).toBe(0);
    const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS());
    const of = (kind: string) => docs.filter((d) => d.kind === kind);
    const lab: string = of('Secret')[0].metadata.labels['io.waitlab.lab'];
    const plan = JSON.parse(of('ConfigMap')[0].data['plan.json']) as Plan;
    const hostPods = of('Pod').filter((p) => p.metadata.labels['io.waitlab.role'] === 'host');
    const controller = of('Pod').find((p) => p.metadata.labels['io.waitlab.role'] === 'controller');
    // A network of its own, and not the plan's /24: the addresses can only be right if they are learned.
    const network = `wlkc${process.pid}`;
    const subnet = '198.19.77.0/24';
    const conf = { ...env, CONTAINERS_CONF: writeContainersConf(dir) };
    writeCniNetwork(network, subnet, '198.19.77.254', lab, podRange(subnet));
    const token = Buffer.from(of('Secret')[0].stringData.token).toString('base64');
    writeFileSync(join(dir, 'secret.json'), JSON.stringify({ token }), { mode: 0o600 });
    try {
      sh('podman', ['secret', 'create', '--label', `io.waitlab.lab=${lab}`, `${lab}-token`, join(dir, 'secret.json')]);
      writeFileSync(join(dir, 'hosts.yaml'), kubeYaml(hostPods, []));
      execFileSync('podman', ['kube', 'play', '--network', network, join(dir, 'hosts.yaml')], { env: conf });
      // What a kubelet does from the file and Podman 4.3 does not: the pods' sysctls, and (for the controller's
      // lookups) the headless Services' names, here as the controller pod's hostAliases.
      const aliases = [];
      for (const pod of hostPods) {
        const pid = await podPid(`${pod.metadata.name}-agent`);
        await applyPodSysctls(pid, plan.hosts[pod.metadata.labels['io.waitlab.host']]!.sysctls);
        aliases.push({ ip: await podAddress(pid), hostnames: [pod.metadata.name] });
      }
      writeFileSync(
        join(dir, 'controller.yaml'),
        kubeYaml([{ ...controller, spec: { ...controller.spec, hostAliases: aliases } }], []),
      );
      execFileSync('podman', ['kube', 'play', '--network', network, join(dir, 'controller.yaml')], { env: conf });
      const container = `${controller.metadata.name}-waitlab`;
      expect(sh('podman', ['wait', container]).trim()).toBe('0');
      const report = JSON.parse(sh('podman', ['logs', container])) as TestReport;
      expect(report.verdict).toBe('pass');
      expect(report.environment.driver).toBe('attached');
      for (const name of ['client', 'server']) {
        expect(report.hosts[name]!.plannedAddress).toBe(plan.hosts[name]!.address);
        expect(report.hosts[name]!.address).toBe(aliases.find((a) => a.hostnames[0] === `${lab}-${name}`)!.ip);
      }
      const flood = report.actors['flood']!;
      expect(Object.keys(flood['errors'])).toEqual(['EADDRNOTAVAIL']);
      expect(flood['connected']).toBe(500);
      expect(report.hosts['client']!.peak.total.TIME_WAIT).toBe(500);
    } finally {
      const pods = sh('podman', ['pod', 'ls', '-q', '--filter', `label=io.waitlab.lab=${lab}`])
        .split('\n')
        .filter(Boolean);
      if (pods.length) sh('podman', ['pod', 'rm', '--force', ...pods]);
      spawnSync('podman', ['secret', 'rm', `${lab}-token`], { stdio: 'ignore' });
      await removeCniNetwork(network);
    }
    expect(sh('podman', ['pod', 'ls', '-q', '--filter', `label=io.waitlab.lab=${lab}`])).toBe('');
    expect(sh('ip', ['-o', 'link', 'show']).includes(`${network}:`)).toBe(false);
  }, 420_000);

  it('refuses a scenario of several networks before anything exists, naming the netns driver (exit 3)', async () => {
    const cli = runCli(
      ['scenario', 'nat-single-source', '--driver', 'kube', '--no-progress', '--out', resolve(tempDir(), 'run')],
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
        'kube',
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
    expect(leftovers().pods).toHaveLength(2);
    expect(leftovers().secrets).toEqual([`wl${cli.child.pid}k0-token`]);
    cli.child.kill('SIGTERM');
    expect(await cli.exit).toBe(143);
    expect(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')).verdict).toBe('interrupted');
  }, 180_000);
});
