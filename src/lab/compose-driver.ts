// The compose lab: each host a container running its agent, all on one internal network on the plan's
// 198.18.0.0/24, brought up by a compose tool from the compose file `waitlab compose` writes (lab/compose-file.ts)
// and reached over unix sockets in a directory of the lab's own, bind-mounted into every container. Sysctls are
// the services' `sysctls:`, which the runtime writes inside each container's own network namespace.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../core/command.ts';
import { LabTeardownError, LabUnavailableError, WaitlabError } from '../core/errors.ts';
import { PACKAGE_VERSION } from '../core/paths.ts';
import type { Plan } from '../core/plan.ts';
import { connectAgent } from './agent-socket.ts';
import { composeFile, composeRefusals, DEFAULT_NOFILE, LAB_LABEL, labSubnet } from './compose-file.ts';
import { detectEngine, missingForCompose, startComposeTool, type ComposeTool } from './container-engine.ts';
import { removeCniNetwork, writeCniNetwork } from './container-network.ts';
import { ensureLabImage, labImage } from './lab-image.ts';
import type { AgentChannel, Lab, LabDriver, LabHost } from './driver.ts';
import { currentPrivilege } from './privilege.ts';
import { deadOwnedLabs, processStartTime } from './stale-labs.ts';

/** wl<controller pid>c<lab number>: the compose project, the network and the lab's directory are all named so. */
export const COMPOSE_LAB = /^wl(\d{1,7})c(\d{1,3})$/;
export const COMPOSE_LABS_DIR = '/run/waitlab/compose';
const COMPOSE_TIMEOUT_MS = 180_000;

let labsMade = 0;
let toolsStarted = 0;

interface ComposeOwner {
  lab: string;
  pid: number;
  startTime: string;
  engine: 'podman' | 'docker';
  cni: boolean;
}

/** Removes containers, networks and volumes labelled with the lab, and its CNI network; returns what it could not. */
async function removeLabResources(lab: string, engine: 'podman' | 'docker', cni: boolean): Promise<string[]> {
  const left: string[] = [];
  const filter = `label=${LAB_LABEL}=${lab}`;
  const ids = async (what: string[]) =>
    (await run(engine, [...what, '--filter', filter]).catch(() => '')).split('\n').filter(Boolean);
  const containers = await ids(['ps', '-a', '-q']);
  if (containers.length)
    await run(engine, ['rm', '-f', ...containers], { timeoutMs: 60_000 }).catch((e: Error) => left.push(e.message));
  if (cni) await removeCniNetwork(lab);
  const networks = await ids(['network', 'ls', '-q']);
  if (networks.length) await run(engine, ['network', 'rm', ...networks]).catch((e: Error) => left.push(e.message));
  const volumes = await ids(['volume', 'ls', '-q']);
  if (volumes.length) await run(engine, ['volume', 'rm', '-f', ...volumes]).catch((e: Error) => left.push(e.message));
  if ((await ids(['ps', '-a', '-q'])).length) left.push(`containers of lab ${lab} are still there`);
  return left;
}

/** Reaps compose labs whose controller is dead; never a live run's. Returns the labs removed. */
export async function reapStaleComposeLabs(): Promise<string[]> {
  const engine = detectEngine();
  const removed: string[] = [];
  for (const { lab, owner } of deadOwnedLabs<ComposeOwner>(COMPOSE_LABS_DIR, COMPOSE_LAB)) {
    const labEngine = owner.engine ?? engine;
    if (labEngine) await removeLabResources(lab, labEngine, owner.cni ?? labEngine === 'podman');
    rmSync(join(COMPOSE_LABS_DIR, lab), { recursive: true, force: true });
    removed.push(`compose lab ${lab}`);
  }
  return removed;
}

/** The machine's own netfilter sees bridged packets when br_netfilter is loaded: the lab's bridge is in its namespace. */
function bridgeNetfilter(): string | undefined {
  try {
    if (readFileSync('/proc/sys/net/bridge/bridge-nf-call-iptables', 'utf8').trim() === '1') {
      return "the lab's bridge is in the machine's own network namespace and br_netfilter is loaded there (net.bridge.bridge-nf-call-iptables=1): the machine's iptables rules and conntrack see the lab's packets";
    }
  } catch {
    // br_netfilter not loaded: bridged packets skip the machine's iptables
  }
  return undefined;
}

export const composeDriver: LabDriver = {
  name: 'compose',
  describe:
    'each host a container on one internal network, brought up by a compose tool (Podman through docker-compose, or Docker)',
  preflight: (plan) => [...(plan ? composeRefusals(plan) : []), ...missingForCompose()],
  // Nothing to re-execute: Podman needs the machine's root (preflight says so), Docker its socket's group.
  withPrivileges: async () => undefined,
  // Compose labs are root's (Podman) or the engine's (Docker): a user namespace has none of them to reap.
  reap: async () => (currentPrivilege() === 'userns-root' ? [] : reapStaleComposeLabs()),
  async build(plan: Plan, log) {
    const refusals = composeRefusals(plan);
    if (refusals.length) throw new LabUnavailableError(refusals.join('; '));
    const reaped = await reapStaleComposeLabs();
    if (reaped.length) log('reaped compose labs of dead runs', { labs: reaped });

    const image = labImage();
    const engine = detectEngine();
    if (!engine) throw new LabUnavailableError(missingForCompose().join('; '));
    // Before anything of the lab exists: a build that fails leaves nothing to tear down.
    ensureLabImage(engine, image, log);
    const id = `wl${process.pid}c${labsMade++}`;
    const dir = join(COMPOSE_LABS_DIR, id);
    const agentsDir = join(dir, 'agents');
    mkdirSync(COMPOSE_LABS_DIR, { recursive: true, mode: 0o700 });
    // Not recursive: the lab's directory must be new, and made by this process.
    mkdirSync(dir, { mode: 0o700 });
    mkdirSync(agentsDir, { mode: 0o700 });
    // Ownership first: a run killed halfway through is still reaped.
    const owner: ComposeOwner = {
      lab: id,
      pid: process.pid,
      startTime: processStartTime(process.pid) ?? '',
      engine,
      cni: engine === 'podman',
    };
    writeFileSync(join(dir, 'owner.json'), JSON.stringify(owner), { mode: 0o600 });

    let tool: ComposeTool | undefined;
    const file = join(dir, 'compose.yml');
    const channels = new Set<AgentChannel>();
    let tornDown = false;
    const hosts: Record<string, LabHost> = {};
    const composeArgs = (args: string[]) => [...tool!.compose.slice(1), '--project-name', id, '--file', file, ...args];
    // A netns host inherits the controller's open-files limit; a container gets the compose file's.
    const unlimited = Object.values(plan.hosts)
      .filter((h) => h.limits?.nofile === undefined)
      .map((h) => h.name);
    const uncontrolled = unlimited.length
      ? [
          `open files on ${unlimited.join(', ')}: the container's limit, ${DEFAULT_NOFILE} (compose ulimits), not the controller's`,
        ]
      : [];
    const netfilter = bridgeNetfilter();
    if (netfilter) uncontrolled.push(netfilter);
    const lab: Lab = {
      id,
      driver: 'compose',
      hosts,
      uncontrolled,
      get tools() {
        return [...(tool?.versions ?? []), `image ${image}`];
      },
      spawnAgent(host) {
        const channel = connectAgent(join(agentsDir, `${host}.sock`), 60_000);
        channels.add(channel);
        return channel;
      },
      spawnInHost(host, argv) {
        const container = hosts[host]!.location;
        const pidFile = `/tmp/waitlab-tool-${process.pid}-${toolsStarted++}.pid`;
        // --privileged for this process only: a packet socket needs CAP_NET_RAW, which Podman 4 no longer gives a
        // container by default; the container itself keeps its own capabilities. The tool's pid goes to a file of
        // the container: `exec` passes no signal on to what it runs, so a stop signals the tool there (sh builtins
        // only, the one shell of a minimal image; every value a positional argument).
        const child = spawn(
          engine,
          ['exec', '--privileged', container, 'sh', '-c', 'echo $$ > "$0" && exec "$@"', pidFile, ...argv],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        const signal = (sig: 'SIGTERM' | 'SIGKILL') => {
          spawn(
            engine,
            ['exec', container, 'sh', '-c', 'read pid < "$0" && kill -s "$1" "$pid"', pidFile, sig.slice(3)],
            { stdio: 'ignore' },
          ).on('error', () => undefined);
          if (sig === 'SIGKILL') child.kill('SIGKILL');
        };
        return { child, signal };
      },
      async teardown() {
        if (tornDown) return;
        tornDown = true;
        for (const channel of channels) channel.kill();
        const left: string[] = [];
        if (tool) {
          await run(tool.compose[0]!, composeArgs(['down', '--volumes', '--remove-orphans', '--timeout', '2']), {
            env: tool.env,
            timeoutMs: COMPOSE_TIMEOUT_MS,
          }).catch((e: Error) => log('compose down failed; removing by label', { error: e.message }));
        }
        left.push(...(await removeLabResources(id, engine, owner.cni)));
        await tool?.stop();
        rmSync(dir, { recursive: true, force: true });
        if (left.length) throw new LabTeardownError(`teardown of compose lab ${id} left: ${left.join('; ')}`);
      },
    };

    try {
      tool = await startComposeTool(dir, engine);
      owner.cni = tool.cni;
      writeFileSync(join(dir, 'owner.json'), JSON.stringify(owner), { mode: 0o600 });
      const { subnet, gateway } = labSubnet(plan);
      if (tool.cni) writeCniNetwork(id, subnet, gateway, id);
      const text = composeFile(
        plan,
        {
          image,
          agents: { bind: agentsDir },
          network: tool.cni ? { external: id } : { create: true },
          labels: { [LAB_LABEL]: id },
        },
        [`compose lab ${id} of scenario ${plan.scenario.name}, written by waitlab ${PACKAGE_VERSION}`],
      );
      writeFileSync(file, text, { mode: 0o600 });
      await run(tool.compose[0]!, composeArgs(['up', '--detach', '--no-build']), {
        env: tool.env,
        timeoutMs: COMPOSE_TIMEOUT_MS,
      });
      const listed = await run(engine, [
        'ps',
        '-a',
        '--filter',
        `label=${LAB_LABEL}=${id}`,
        '--format',
        '{{.Names}} {{index .Labels "io.waitlab.host"}}',
      ]);
      for (const line of listed.split('\n').filter(Boolean)) {
        const [container, host] = line.split(' ');
        if (host && plan.hosts[host])
          hosts[host] = { name: host, address: plan.hosts[host].address, location: container! };
      }
      const missing = Object.keys(plan.hosts).filter((h) => !hosts[h]);
      if (missing.length) throw new WaitlabError(`compose brought up no container for host ${missing.join(', ')}`);
      log('compose lab up', {
        lab: id,
        tools: lab.tools,
        containers: Object.fromEntries(Object.values(hosts).map((h) => [h.name, h.location])),
        file,
      });
    } catch (err) {
      await lab.teardown().catch(() => undefined);
      throw err;
    }
    return lab;
  },
};
