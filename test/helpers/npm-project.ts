// Real npm and real processes for the package tests: a clean environment for npm, npx and the waitlab they start,
// a child's exit code and output, and the packed tarball.
import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { PACKAGE_ROOT } from '../../src/core/paths.ts';

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** npm flags for installs that should not wait on the registry more than they must. */
export const QUICK = ['--prefer-offline', '--no-audit', '--no-fund'];

// `npm test` runs the lab files with npm_config_prefix, npm_config_local_prefix, ... of the checkout in the
// environment: the npm, npx and waitlab children must see none of them, or they would install into
// the machine's prefix or the checkout. node stays on PATH for the bins' `#!/usr/bin/env node`.
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^npm_/i.test(key)) env[key] = value;
  env.PATH = `${dirname(process.execPath)}:${env.PATH ?? '/usr/bin:/bin'}`;
  return { ...env, npm_config_update_notifier: 'false', ...extra };
}

export function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = cleanEnv()): Promise<Ran> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** A setup step that must work: its output is the failure message if it does not. */
export async function must(command: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<Ran> {
  const ran = await run(command, args, cwd, env);
  if (ran.code !== 0)
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${ran.code}\n${ran.stdout}\n${ran.stderr}`);
  return ran;
}

/** `npm pack` of the checkout into `dir`; --ignore-scripts: `prepare` would rebuild dist/, which ships as built. */
export async function packWaitlab(dir: string): Promise<string> {
  const packed = await must('npm', ['pack', '--pack-destination', dir, '--ignore-scripts', '--json'], PACKAGE_ROOT);
  return join(dir, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
}
