// What a process actor runs, resolved at plan time: the executable's absolute path, the working directory, the
// whole environment (the lab's addresses and ports in it) and the user, so the plan shows exactly what will run.
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { ValuesOf } from '../core/fields.ts';
import { findExecutable } from '../core/executable-lookup.ts';
import type { LinkContext } from './actor.ts';
import type { processOptions, ReadyTest } from './process-options.ts';

export interface ProcessUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

export interface ProcessLaunch {
  /** argv[0] is the executable's absolute path. */
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly user: ProcessUser;
  readonly ready: ReadyTest;
}

/** PATH and LANG only: the command sees the lab, not the controller's environment (no SUDO_*, no tokens). */
function baseEnv(): Record<string, string> {
  return { PATH: process.env['PATH'] || '/usr/local/bin:/usr/bin:/bin', LANG: process.env['LANG'] || 'C.UTF-8' };
}

/** The lab's addresses and the servers' ports: WAITLAB_HOST_<host>, WAITLAB_PORT_<actor> (a dash of a name becomes _). */
function labEnv(ctx: LinkContext): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, host] of Object.entries(ctx.hosts)) env[`WAITLAB_HOST_${name}`] = host.address;
  for (const [name, actor] of Object.entries(ctx.actors)) {
    const port = actor.options['port'];
    if (typeof port === 'number') env[`WAITLAB_PORT_${name.replaceAll('-', '_')}`] = String(port);
  }
  return env;
}

function accountOf(name: string): ProcessUser | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${name}:`));
    const [, , uid, gid] = line?.split(':') ?? [];
    return uid === undefined || gid === undefined ? undefined : { name, uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined;
  }
}

function groupId(name: string): number | undefined {
  try {
    const gid = readFileSync('/etc/group', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${name}:`))
      ?.split(':')[2];
    return gid === undefined ? undefined : Number(gid);
  } catch {
    return undefined;
  }
}

/** The user asked for; by default the one who ran sudo (SUDO_UID, SUDO_GID), else nobody in group nogroup. */
export function resolveUser(asked: string | undefined, where: string, problems: string[]): ProcessUser | undefined {
  if (asked === 'root') return { name: 'root', uid: 0, gid: 0 };
  if (asked !== undefined) {
    const account = accountOf(asked);
    if (!account) problems.push(`${where}: no user "${asked}" in /etc/passwd`);
    return account;
  }
  const sudoUid = Number(process.env['SUDO_UID']);
  const sudoGid = Number(process.env['SUDO_GID']);
  if (process.getuid?.() === 0 && Number.isInteger(sudoUid) && sudoUid > 0 && Number.isInteger(sudoGid)) {
    return { name: process.env['SUDO_USER'] || `uid ${sudoUid}`, uid: sudoUid, gid: sudoGid };
  }
  const nobody = accountOf('nobody');
  return { name: 'nobody', uid: nobody?.uid ?? 65534, gid: groupId('nogroup') ?? nobody?.gid ?? 65534 };
}

function directoryProblem(dir: string): string | undefined {
  try {
    return statSync(dir).isDirectory() ? undefined : `${dir} is not a directory`;
  } catch (err) {
    return `${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
  }
}

/** The executable: absolute, relative to cwd (with a slash), or looked up in PATH; it must be an executable file. */
function resolveExecutable(command: string, cwd: string): string | undefined {
  if (!command.includes('/')) return findExecutable(command);
  const path = isAbsolute(command) ? command : resolve(cwd, command);
  try {
    if (!statSync(path).isFile()) return undefined;
  } catch {
    return undefined;
  }
  return findExecutable(path, path);
}

export function resolveLaunch(
  o: ValuesOf<typeof processOptions>,
  ctx: LinkContext,
  where: string,
  problems: string[],
): ProcessLaunch | undefined {
  // An option that did not parse is undefined here; its problem is listed already.
  if (o.command === undefined || o.env === undefined) return undefined;
  const cwd = resolve(ctx.scenarioDir, o.cwd ?? '.');
  const cwdProblem = directoryProblem(cwd);
  if (cwdProblem) problems.push(`${where}.cwd: ${cwdProblem}`);
  const executable = cwdProblem ? undefined : resolveExecutable(o.command[0]!, cwd);
  if (!cwdProblem && !executable) {
    problems.push(
      `${where}.command: ${JSON.stringify(o.command[0])} is not an executable file (${o.command[0]!.includes('/') ? `looked at ${resolve(cwd, o.command[0]!)}` : 'not found in PATH'})`,
    );
  }
  const user = resolveUser(o.user, `${where}.user`, problems);
  const ready: ReadyTest | undefined = o.ready ?? (o.port === undefined ? undefined : { port: o.port });
  if (!ready)
    problems.push(`${where}: give the port it listens on (port: 8080) or a ready test (ready: { log: 'listening' })`);
  if (!executable || !user || !ready || cwdProblem) return undefined;
  return {
    argv: [executable, ...o.command.slice(1)],
    cwd,
    env: { ...baseEnv(), ...labEnv(ctx), ...o.env },
    user,
    ready,
  };
}
