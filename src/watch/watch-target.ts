// Which network namespace watch and doctor look at: their own (the default), a named one (/run/netns/NAME,
// as `ip netns` makes them), or a process's (/proc/PID/ns/net). Another namespace is entered by running the
// same command again under `nsenter --net=<path>`: only the network namespace changes, so /proc (and with it
// every process's fds) and the terminal stay the same, and nothing is created in the namespace.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { hasCommand } from '../core/executable-lookup.ts';
import { LabUnavailableError, UsageError } from '../core/errors.ts';
import { PACKAGE_ROOT } from '../core/paths.ts';
import { terminalSafe } from '../core/terminal-text.ts';

export type WatchTarget =
  | { readonly kind: 'self'; readonly label: string }
  | { readonly kind: 'netns' | 'pid'; readonly label: string; readonly path: string };

const NETNS_NAME = /^[A-Za-z0-9_.-]+$/;
const PID = /^[1-9][0-9]{0,9}$/;

export function watchTarget(given: { netns?: string; pid?: string | number; label?: string }): WatchTarget {
  if (given.netns !== undefined && given.pid !== undefined) throw new UsageError('give --netns or --pid, not both');
  if (given.netns !== undefined) return namedNamespace(String(given.netns), String(given.netns));
  if (given.pid !== undefined) {
    const text = String(given.pid);
    if (!PID.test(text) || Number(text) > 4_194_304) throw new UsageError(`--pid "${text}" is not a process id`);
    const path = `/proc/${text}/ns/net`;
    if (!existsSync(path)) throw new UsageError(`--pid ${text}: no such process`);
    return { kind: 'pid', label: `pid ${text}`, path };
  }
  return { kind: 'self', label: given.label ?? 'this namespace' };
}

/** /run/netns/NAME, checked: a plain name (no path), and the namespace exists. */
export function namedNamespace(name: string, label: string): Extract<WatchTarget, { path: string }> {
  if (!NETNS_NAME.test(name) || name === '.' || name === '..')
    throw new UsageError(`--netns "${name}" is not a namespace name (letters, digits, _ . - only)`);
  const path = `/run/netns/${name}`;
  if (!existsSync(path))
    throw new UsageError(`--netns ${name}: no such namespace (${path} does not exist; ip netns list shows them)`);
  return { kind: 'netns', label, path };
}

/** The command that runs `waitlab <args>` inside the target's network namespace (see runInTarget). */
export function commandInTarget(
  target: Extract<WatchTarget, { path: string }>,
  args: readonly string[],
): [string, string[]] {
  if (process.getuid?.() !== 0)
    throw new LabUnavailableError(
      `entering ${target.label}'s network namespace needs root (setns needs CAP_SYS_ADMIN): run it with sudo, or without --netns/--pid/--run for this namespace`,
    );
  if (!hasCommand('nsenter')) throw new LabUnavailableError('nsenter is missing: install util-linux');
  return [
    'nsenter',
    [
      `--net=${target.path}`,
      '--',
      process.execPath,
      resolve(PACKAGE_ROOT, 'bin/waitlab.js'),
      ...args,
      `--label=${target.label}`,
    ],
  ];
}

/**
 * Runs `waitlab <args>` inside the target's network namespace and resolves with its exit code. setns(2) into
 * another network namespace needs CAP_SYS_ADMIN: without root this fails before starting anything.
 */
export function runInTarget(target: Extract<WatchTarget, { path: string }>, args: readonly string[]): Promise<number> {
  const [command, argv] = commandInTarget(target, args);
  const child = spawn(command, argv, { stdio: 'inherit' });
  // The child owns the terminal and quits on its own signals; this process only waits for it.
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', forward);
  return new Promise((r, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code !== null) return r(code);
      if (signal === 'SIGINT' || signal === 'SIGTERM') return r(signal === 'SIGTERM' ? 143 : 130);
      // A lab's teardown SIGKILLs every process left in its namespaces, this reader included.
      process.stderr.write(
        `waitlab: the reader inside ${terminalSafe(target.label)} was ended by ${signal} (was its namespace removed?)\n`,
      );
      r(4);
    });
  });
}
