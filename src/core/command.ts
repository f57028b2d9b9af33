// Runs the lab's external commands (ip, unshare, mount) with argument arrays: no shell, no quoting.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { LabCommandError, LabUnavailableError } from './errors.ts';

export function run(command: string, args: readonly string[], options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { timeout: options.timeoutMs ?? 15_000, maxBuffer: 16 * 1024 * 1024, ...(options.env ? { env: options.env } : {}) }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(new LabUnavailableError(`${command} is not installed: ${TOOL_PACKAGES[command] ?? 'install it'}`));
      }
      reject(new LabCommandError([command, ...args], typeof err.code === 'number' ? err.code : null, stderr || err.message));
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** The Debian package that provides each tool, for error messages. */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  ip: 'apt-get install iproute2',
  unshare: 'apt-get install util-linux',
  mount: 'apt-get install mount',
  nsenter: 'apt-get install util-linux',
  prlimit: 'apt-get install util-linux',
  nft: 'apt-get install nftables',
};

/** Where tools of root live; an ordinary user's PATH often lacks them (nginx, haproxy, nft are in /usr/sbin). */
const SBIN = ['/usr/sbin', '/usr/local/sbin', '/sbin'];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The absolute path of `command` (in PATH or an sbin directory), or of `given` when it is an absolute path. */
export function findExecutable(command: string, given?: string): string | undefined {
  if (given !== undefined) return isAbsolute(given) && executable(given) ? given : undefined;
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...SBIN];
  return dirs.map((d) => join(d, command)).find(executable);
}

export function hasCommand(command: string): boolean {
  return findExecutable(command) !== undefined;
}
