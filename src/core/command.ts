// Runs the lab's external commands (ip, unshare, mount) with argument arrays: no shell, no quoting.
import { execFile } from 'node:child_process';
import { LabCommandError, LabUnavailableError } from './errors.ts';
import { installHint, systemTool } from './system-tools.ts';

export function run(
  command: string,
  args: readonly string[],
  options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      {
        timeout: options.timeoutMs ?? 15_000,
        maxBuffer: 16 * 1024 * 1024,
        ...(options.env ? { env: options.env } : {}),
      },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          return reject(
            new LabUnavailableError(
              `${command} is not installed: ${systemTool(command) ? installHint([command]) : 'install it'}`,
            ),
          );
        }
        reject(
          new LabCommandError(
            [command, ...args],
            typeof err.code === 'number' ? err.code : null,
            stderr || err.message,
          ),
        );
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}
