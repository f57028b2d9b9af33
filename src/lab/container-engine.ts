// The container engine and compose tool behind the compose driver. Podman (root) is driven through
// docker-compose against a `podman system service` on a unix socket in the lab's own directory, started for
// the lab and gone with it: docker-compose sets each service's address (ipv4_address), which podman-compose 1.0
// cannot. A Docker Engine is driven through `docker compose` (or docker-compose) as it is.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LabUnavailableError } from '../core/errors.ts';
import { run } from '../core/command.ts';
import { findExecutable } from '../core/executable-lookup.ts';
import { currentPrivilege } from './privilege.ts';

export type Engine = 'podman' | 'docker';

export interface ComposeTool {
  /** The compose command: ['docker-compose'] or ['docker', 'compose']. */
  readonly compose: readonly string[];
  /** The environment compose runs with (DOCKER_HOST of Podman's service). */
  readonly env: NodeJS.ProcessEnv;
  /** For the report: each tool and its version. */
  readonly versions: readonly string[];
  /** Podman's network backend: with CNI the driver makes the lab's network itself (container-network.ts). */
  readonly cni: boolean;
  /** Ends what was started for this lab (Podman's service). */
  stop(): Promise<void>;
}

function firstLine(command: string, args: string[]): string | undefined {
  const out = spawnSync(command, args, { encoding: 'utf8', timeout: 15_000 });
  return out.status === 0 ? out.stdout.trim().split('\n')[0] : undefined;
}

/** Which engine this machine has: Podman when installed, else a Docker Engine that answers. */
export function detectEngine(): Engine | undefined {
  if (findExecutable('podman')) return 'podman';
  if (findExecutable('docker') && firstLine('docker', ['info', '--format', '{{.ServerVersion}}'])) return 'docker';
  return undefined;
}

/** What stops a compose lab here, each with its fix; empty when nothing does. */
export function missingForCompose(): string[] {
  const engine = detectEngine();
  if (!engine)
    return [
      'no container engine: install Podman (npx waitlab setup --only podman,runc,docker-compose) or run a Docker Engine',
    ];
  const missing: string[] = [];
  if (engine === 'podman') {
    if (currentPrivilege() !== 'root')
      missing.push('the compose lab drives Podman as root here: run it as root (not in a user namespace)');
    if (!findExecutable('docker-compose'))
      missing.push(
        'docker-compose is not installed (npx waitlab setup --only docker-compose): it drives Podman through its API socket',
      );
  } else if (!firstLine('docker', ['compose', 'version']) && !findExecutable('docker-compose')) {
    missing.push('neither `docker compose` nor docker-compose is installed');
  }
  return missing;
}

async function waitForFile(path: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (child.exitCode !== null)
      throw new LabUnavailableError(`podman system service exited (${child.exitCode}) before its socket appeared`);
    if (Date.now() > deadline)
      throw new LabUnavailableError(`podman system service made no socket at ${path} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The compose tool for `engine` and a lab whose private directory is `dir` (root's, 0700): Podman's service socket goes there. */
export async function startComposeTool(dir: string, engine: Engine): Promise<ComposeTool> {
  if (engine === 'docker') {
    const plugin = firstLine('docker', ['compose', 'version', '--short']);
    const compose = plugin ? ['docker', 'compose'] : ['docker-compose'];
    const versions = [
      `docker ${firstLine('docker', ['version', '--format', '{{.Server.Version}}']) ?? '?'}`,
      plugin ? `docker compose ${plugin}` : (firstLine('docker-compose', ['version', '--short']) ?? 'docker-compose'),
    ];
    return { compose, env: process.env, versions, cni: false, stop: async () => undefined };
  }
  const socket = join(dir, 'podman.sock');
  // Tied to this process by the kernel (PR_SET_PDEATHSIG): a controller killed outright takes its service along.
  const service = spawn(
    'setpriv',
    ['--pdeathsig', 'KILL', '--', 'podman', 'system', 'service', '--time=0', `unix://${socket}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  service.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
  const stop = async () => {
    if (service.exitCode !== null || service.signalCode !== null) return;
    const gone = new Promise((r) => service.once('exit', r));
    service.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
    if (service.exitCode === null && service.signalCode === null) service.kill('SIGKILL');
  };
  try {
    await waitForFile(socket, service, 15_000);
  } catch (err) {
    await stop();
    throw new LabUnavailableError(`${(err as Error).message}${stderr ? `: ${stderr.trim()}` : ''}`);
  }
  const backend = (await run('podman', ['info', '--format', '{{.Host.NetworkBackend}}']).catch(() => '')).trim();
  const runtime = (await run('podman', ['info', '--format', '{{.Host.OCIRuntime.Name}}']).catch(() => '?')).trim();
  const compose = firstLine('docker-compose', ['version', '--short']);
  const versions = [
    firstLine('podman', ['--version']) ?? 'podman',
    `network backend ${backend || '?'}`,
    `runtime ${runtime}`,
    compose ? `docker-compose ${compose}` : 'docker-compose',
  ];
  return {
    compose: ['docker-compose'],
    env: { ...process.env, DOCKER_HOST: `unix://${socket}`, COMPOSE_INTERACTIVE_NO_CLI: '1' },
    versions,
    cni: backend === 'cni',
    stop,
  };
}
