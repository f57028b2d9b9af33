// Runs the lab's external commands (ip, unshare, mount) with argument arrays: no shell, no quoting.
import { execFile, spawnSync } from 'node:child_process';
import { LabCommandError, LabUnavailableError } from './errors.ts';

export function run(command: string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { timeout: options.timeoutMs ?? 15_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
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

export function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}
