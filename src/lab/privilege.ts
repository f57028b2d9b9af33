// Root runs the lab directly. An ordinary user's run re-executes itself under
// `unshare --user --map-root-user --net --mount`: root inside a user namespace that owns a fresh network
// namespace and a private mount namespace, where a tmpfs on /run gives `ip netns` its own /run/netns.
// The same code then serves both. The machine's own network and sysctls are out of reach either way.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { LabUnavailableError } from '../core/errors.ts';
import { inUserNamespace } from '../core/user-namespace.ts';
import { hasCommand } from '../core/executable-lookup.ts';
import { installHint } from '../core/system-tools.ts';

export type Privilege = 'root' | 'userns-root' | 'user';

export function currentPrivilege(): Privilege {
  if (process.getuid?.() !== 0) return 'user';
  return inUserNamespace() ? 'userns-root' : 'root';
}

/** What is missing for a lab here, as sentences that say how to get it; empty when nothing is. */
export function missingForLab(privilege: Privilege = currentPrivilege()): string[] {
  const missing: string[] = [];
  for (const tool of ['ip', 'unshare', 'mount']) {
    if (!hasCommand(tool)) missing.push(`${tool} is not installed: ${installHint([tool])}`);
  }
  if (privilege === 'user' && hasCommand('unshare')) {
    const probe = spawnSync('unshare', ['--user', '--map-root-user', '--net', '--mount', 'true'], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    if (probe.status !== 0) {
      missing.push(
        `this user cannot create user namespaces (unshare said: ${(probe.stderr || 'nothing').trim()}). ` +
          'Run as root, or allow unprivileged user namespaces: `sysctl -w kernel.unprivileged_userns_clone=1` (Debian), ' +
          '`sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` (Ubuntu 23.10+), or raise user.max_user_namespaces',
      );
    }
  }
  return missing;
}

/**
 * Runs `argv` (a node script and its arguments) again as root of a new user namespace and resolves
 * with its exit code. Signals reach the child through the terminal's process group or are forwarded.
 */
export function reexecInUserNamespace(argv: readonly string[], stdio: 'inherit' | 'pipe' = 'inherit'): Promise<number> {
  const child = spawn('unshare', ['--user', '--map-root-user', '--net', '--mount', '--', ...argv], {
    stdio,
  });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(code ?? (signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1));
    });
  });
}

const RUN_MOUNT_SOURCE = 'waitlab-run';

/** Whether this mount namespace already has our /run: children of the run share it and must not mount again. */
function privateRunMounted(): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => {
      const [pre, post] = line.split(' - ');
      return pre?.split(' ')[4] === '/run' && post?.split(' ')[1] === RUN_MOUNT_SOURCE;
    });
}

/** Inside the user namespace: a private /run, so /run/netns and /run/waitlab are this run's alone. */
export function prepareUserNamespace(): void {
  if (currentPrivilege() !== 'userns-root' || privateRunMounted()) return;
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'mode=0755', RUN_MOUNT_SOURCE, '/run'], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new LabUnavailableError(`could not mount a private /run in the user namespace: ${r.stderr.trim()}`);
  mkdirSync('/run/netns', { recursive: true });
}
