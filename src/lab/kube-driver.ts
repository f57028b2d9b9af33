// The kube lab: the pods of the file `waitlab kube` writes, played on this machine with `podman kube play` (Podman's
// implementation of Kubernetes Pod YAML) on a lab network of the plan's 198.18.0.0/24, its agent reached over TCP
// with the run's token. As a cluster's CNI would, the network gives each pod an address of its own choosing (from
// the top half of the /24, never the plan's): the controller learns it from the pod's agent and moves the plan there. What this Podman does not honour of the file is
// done by the driver and said in the report: pod sysctls (Podman honours them from 4.5) are written in each pod's
// network namespace and read back by its agent; the Secret becomes a Podman secret made beforehand; the other kinds
// (Services, ConfigMap, NetworkPolicy) are not played, the lab network being a bridge with no route out.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../core/command.ts';
import { LabTeardownError, LabUnavailableError, WaitlabError } from '../core/errors.ts';
import { findExecutable } from '../core/executable-lookup.ts';
import type { Plan } from '../core/plan.ts';
import { hasTool } from '../core/system-tools.ts';
import { isIpv4 } from '../core/units.ts';
import { sysctlPath } from '../plan/sysctl-check.ts';
import { connectAgentTcp } from './agent-socket.ts';
import { composeRefusals, DEFAULT_NOFILE, DEFAULT_NPROC, LAB_LABEL, labSubnet } from './compose-file.ts';
import { type AddressRange, removeCniNetwork, writeCniNetwork } from './container-network.ts';
import type { AgentChannel, Lab, LabDriver, LabHost } from './driver.ts';
import { AGENT_TCP_PORT, kubeDocuments, kubePods, kubeYaml, podName } from './kube-file.ts';
import { ensureLabImage, labImage } from './lab-image.ts';
import { WRITE_SYSCTLS } from './netns-driver.ts';
import { currentPrivilege } from './privilege.ts';
import { deadOwnedLabs, processStartTime } from './stale-labs.ts';

/** wl<controller pid>k<lab number>: the lab's pods, network, bridge, secret and directory are all named from it. */
export const KUBE_LAB = /^wl(\d{1,7})k(\d{1,3})$/;
export const KUBE_LABS_DIR = '/run/waitlab/kube';
const PLAY_TIMEOUT_MS = 180_000;
const AGENT_CONNECT_MS = 60_000;

let labsMade = 0;

interface KubeOwner {
  lab: string;
  pid: number;
  startTime: string;
}

/** What a kube lab here cannot build of a plan; empty: it can. */
export function kubeRefusals(plan: Plan): string[] {
  const refusals = composeRefusals(plan, 'the kube lab');
  const limited = Object.values(plan.hosts).filter(
    (h) => h.limits?.nofile !== undefined && h.limits.nofile !== DEFAULT_NOFILE,
  );
  // Kubernetes has no per-pod rlimit, and Podman's kube play takes one for every pod (containers.conf).
  if (limited.length)
    refusals.push(
      `host ${limited.map((h) => h.name).join(', ')} sets limits.nofile; pods have no open-files limit of their own (every pod here gets ${DEFAULT_NOFILE}): use --driver compose or netns`,
    );
  if (plan.capture) refusals.push('--capture is not built for the kube lab: use --driver netns or compose');
  return refusals;
}

/** What stops a kube lab here, each with its fix. */
export function missingForKube(): string[] {
  if (!findExecutable('podman')) return ['podman is not installed (npx waitlab setup --only podman,runc,catatonit)'];
  const missing: string[] = [];
  if (currentPrivilege() !== 'root')
    missing.push('the kube lab drives Podman as root here: run it as root (not in a user namespace)');
  // The pod's infra container runs catatonit from Podman's pause image, built locally when first needed.
  if (!hasTool('catatonit'))
    missing.push(
      "catatonit is not installed (npx waitlab setup --only catatonit): podman kube play's pause image runs it",
    );
  if (!findExecutable('nsenter'))
    missing.push(
      "nsenter is not installed (util-linux): the driver writes each pod's sysctls in its network namespace",
    );
  return missing;
}

/** Removes pods, containers and the secret of the lab, its CNI network and bridge; returns what it could not. */
async function removeKubeLab(lab: string): Promise<string[]> {
  const left: string[] = [];
  const filter = `label=${LAB_LABEL}=${lab}`;
  const ids = async (what: string[]) =>
    (await run('podman', [...what, '--filter', filter]).catch(() => '')).split('\n').filter(Boolean);
  const pods = await ids(['pod', 'ls', '-q']);
  if (pods.length)
    await run('podman', ['pod', 'rm', '--force', ...pods], { timeoutMs: 60_000 }).catch((e: Error) =>
      left.push(e.message),
    );
  const containers = await ids(['ps', '-a', '-q']);
  if (containers.length)
    await run('podman', ['rm', '--force', ...containers], { timeoutMs: 60_000 }).catch((e: Error) =>
      left.push(e.message),
    );
  await run('podman', ['secret', 'rm', `${lab}-token`]).catch(() => undefined);
  await removeCniNetwork(lab);
  if ((await ids(['pod', 'ls', '-q'])).length) left.push(`pods of lab ${lab} are still there`);
  return left;
}

/** Reaps kube labs whose controller is dead; never a live run's. Returns the labs removed. */
export async function reapStaleKubeLabs(): Promise<string[]> {
  const removed: string[] = [];
  for (const { lab } of deadOwnedLabs<KubeOwner>(KUBE_LABS_DIR, KUBE_LAB)) {
    await removeKubeLab(lab);
    rmSync(join(KUBE_LABS_DIR, lab), { recursive: true, force: true });
    removed.push(`kube lab ${lab}`);
  }
  return removed;
}

/** What the CNI gives out to pods: the top half of the /24, where the plan's addresses (from .2 up) are not. */
export function podRange(subnet: string): AddressRange {
  const base = subnet.split('.').slice(0, 3).join('.');
  return { start: `${base}.128`, end: `${base}.253` };
}

/** The one global IPv4 address of the pod's network namespace, where its controller reaches its agent. */
export async function podAddress(pid: number): Promise<string> {
  const shown = await run('nsenter', [
    '--target',
    String(pid),
    '--net',
    '--',
    'ip',
    '-j',
    '-4',
    'addr',
    'show',
    'scope',
    'global',
  ]);
  const links = JSON.parse(shown) as { addr_info?: { local?: unknown }[] }[];
  const addresses = links.flatMap((l) => (l.addr_info ?? []).map((a) => a.local)).filter(isIpv4);
  if (addresses.length !== 1)
    throw new WaitlabError(
      `the pod of process ${pid} has ${addresses.length} IPv4 addresses (${addresses.join(', ')}), not one`,
    );
  return addresses[0]!;
}

/**
 * Podman's defaults (nofile 1048576) are above this machine's hard limit: the infra container fails with "error
 * setting rlimit type 7" unless the limits are given, and kube play takes them only from a containers.conf, which
 * this writes in `dir` for CONTAINERS_CONF. Returns its path.
 */
export function writeContainersConf(dir: string): string {
  const conf = join(dir, 'containers.conf');
  writeFileSync(
    conf,
    `[containers]\ndefault_ulimits = ["nofile=${DEFAULT_NOFILE}:${DEFAULT_NOFILE}", "nproc=${DEFAULT_NPROC}:${DEFAULT_NPROC}"]\n`,
    { mode: 0o600 },
  );
  return conf;
}

/** The pod's network namespace, through the pid of its agent's container. */
export async function podPid(container: string): Promise<number> {
  const pid = Number((await run('podman', ['inspect', '--format', '{{.State.Pid}}', container])).trim());
  if (!Number.isInteger(pid) || pid < 1) throw new WaitlabError(`container ${container} has no running process`);
  return pid;
}

/**
 * Writes the host's sysctls in its pod's network namespace, unless the engine already did from the pod's
 * securityContext; returns whether it had to (the YAML's sysctls were not honoured).
 */
export async function applyPodSysctls(pid: number, sysctls: Readonly<Record<string, string>>): Promise<boolean> {
  const entries = Object.entries(sysctls);
  if (!entries.length) return false;
  const inPod = ['--target', String(pid), '--net', '--'];
  const current = await run('nsenter', [
    ...inPod,
    'sh',
    '-c',
    'for p; do tr -s " \\t" " " < "$p"; done',
    'sh',
    ...entries.map(([k]) => sysctlPath(k)),
  ]);
  const read = current.split('\n').filter(Boolean);
  if (entries.every(([, v], i) => read[i]?.trim() === v)) return false;
  await run('nsenter', [...inPod, 'sh', '-c', WRITE_SYSCTLS, 'sh', ...entries.flatMap(([k, v]) => [sysctlPath(k), v])]);
  return true;
}

export const kubeDriver: LabDriver = {
  name: 'kube',
  describe:
    "each host a pod of the file `waitlab kube` writes, played with podman kube play on one lab network; agents reached over TCP with the run's token",
  preflight: (plan) => [...(plan ? kubeRefusals(plan) : []), ...missingForKube()],
  withPrivileges: async () => undefined,
  reap: async () => (currentPrivilege() === 'userns-root' ? [] : reapStaleKubeLabs()),
  async build(plan, log) {
    const refusals = kubeRefusals(plan);
    if (refusals.length) throw new LabUnavailableError(refusals.join('; '));
    const reaped = await reapStaleKubeLabs();
    if (reaped.length) log('reaped kube labs of dead runs', { labs: reaped });
    const image = labImage();
    // Before anything of the lab exists: a build that fails leaves nothing to tear down.
    ensureLabImage('podman', image, log);

    const id = `wl${process.pid}k${labsMade++}`;
    const dir = join(KUBE_LABS_DIR, id);
    mkdirSync(KUBE_LABS_DIR, { recursive: true, mode: 0o700 });
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(
      join(dir, 'owner.json'),
      JSON.stringify({ lab: id, pid: process.pid, startTime: processStartTime(process.pid) ?? '' } satisfies KubeOwner),
      { mode: 0o600 },
    );

    const token = randomBytes(32).toString('hex');
    const file = join(dir, 'pods.yaml');
    const channels = new Set<AgentChannel>();
    const hosts: Record<string, LabHost> = {};
    const uncontrolled: string[] = [
      `open files on every pod: ${DEFAULT_NOFILE}, the lab's containers.conf default_ulimits (a pod has no limit of its own)`,
    ];
    const tools: string[] = [];
    let tornDown = false;
    const lab: Lab = {
      id,
      driver: 'kube',
      hosts,
      addressesFromAgents: true,
      uncontrolled,
      tools,
      spawnAgent(host) {
        const channel = connectAgentTcp(hosts[host]!.address, AGENT_TCP_PORT, token, AGENT_CONNECT_MS);
        channels.add(channel);
        return channel;
      },
      async teardown() {
        if (tornDown) return;
        tornDown = true;
        for (const channel of channels) channel.kill();
        await run('podman', ['kube', 'down', file], { timeoutMs: PLAY_TIMEOUT_MS }).catch((e: Error) =>
          log('podman kube down failed; removing by label', { error: e.message }),
        );
        const left = await removeKubeLab(id);
        rmSync(dir, { recursive: true, force: true });
        if (left.length) throw new LabTeardownError(`teardown of kube lab ${id} left: ${left.join('; ')}`);
      },
    };

    try {
      const { subnet, gateway } = labSubnet(plan);
      const prefix = subnet.split('/')[1]!;
      writeCniNetwork(id, subnet, gateway, id, podRange(subnet));
      const env = { ...process.env, CONTAINERS_CONF: writeContainersConf(dir) };
      // Podman 4.3 reads a secretKeyRef from a Podman secret holding the Secret's data (base64 per key); it stores a
      // played Secret's data otherwise, so the driver makes the secret itself and plays only the pods.
      const secret = join(dir, 'secret.json');
      writeFileSync(secret, JSON.stringify({ token: Buffer.from(token).toString('base64') }), { mode: 0o600 });
      await run('podman', ['secret', 'create', '--label', `${LAB_LABEL}=${id}`, `${id}-token`, secret]);
      rmSync(secret);
      const pods = kubePods(kubeDocuments(plan, { lab: id, image, token, pullPolicy: 'Never' }));
      writeFileSync(
        file,
        kubeYaml(pods, [
          `kube lab ${id} of scenario ${plan.scenario.name}: the pods of \`waitlab kube\`, played by podman kube play`,
        ]),
        { mode: 0o600 },
      );
      await run('podman', ['kube', 'play', '--network', id, file], { env, timeoutMs: PLAY_TIMEOUT_MS });
      // The controller's own address on the lab bridge, the one host-local kept back: its line to the agents. Only
      // the bridge gets it (a connected route to the lab's /24); nothing forwards, masquerades or filters.
      await run('ip', ['addr', 'add', `${gateway}/${prefix}`, 'dev', id]);
      const written: string[] = [];
      for (const host of Object.values(plan.hosts)) {
        const container = `${podName(id, host.name)}-agent`;
        const pid = await podPid(container);
        if (await applyPodSysctls(pid, host.sysctls)) written.push(host.name);
        hosts[host.name] = { name: host.name, address: await podAddress(pid), location: container };
      }
      const version = (await run('podman', ['--version'])).trim();
      tools.push(version, 'podman kube play', 'network backend cni', `image ${image}`);
      if (written.length) {
        uncontrolled.push(
          `${version} did not honour the pods' securityContext.sysctls (Podman does from 4.5): the driver wrote them in the network namespaces of ${written.join(', ')}, and each agent read them back`,
        );
      }
      uncontrolled.push(
        'not played by podman kube play: the Services, ConfigMap and NetworkPolicy of `waitlab kube` (the lab network is a bridge with no route out), nor affinity (one machine)',
        `the controller reaches the agents from the machine, through ${gateway} on the lab's bridge ${id}`,
        `the pods' addresses are the lab network's choice (${podRange(subnet).start} to ${podRange(subnet).end}), as a cluster's CNI makes it: each learned from the pod's agent, the plan moved to them`,
      );
      log('kube lab up', {
        lab: id,
        tools,
        containers: Object.fromEntries(Object.values(hosts).map((h) => [h.name, h.location])),
        file,
        sysctlsWrittenByDriver: written,
      });
    } catch (err) {
      await lab.teardown().catch(() => undefined);
      throw err;
    }
    return lab;
  },
};
