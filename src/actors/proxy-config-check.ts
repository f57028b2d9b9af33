// A user's filled nginx.conf or haproxy.cfg checked by the engine itself (`nginx -t`, `haproxy -c`) at plan
// time, before any lab exists, in a temporary directory of this run's own; a refusal comes back in the engine's
// own words, with the temporary path replaced by the user's file (placeholders never change a line number).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inUserNamespace } from '../core/user-namespace.ts';
import { nginxUserGlobals } from './nginx-user-globals.ts';

const CHECK_TIMEOUT_MS = 20_000;
/** The engine's message, cut to its last lines: its alerts come first and its verdict last. */
const MESSAGE_LINES = 12;

/**
 * `nginx -t` binds every `listen` address (and only tolerates EADDRINUSE), so on the machine itself a lab address
 * would fail with EADDRNOTAVAIL and a wildcard would listen for a moment on the machine's own network. It runs in
 * a network namespace of its own, gone when it exits, whose net.ipv4.ip_nonlocal_bind (that namespace's, not the
 * machine's) lets it bind the lab's addresses. The script is fixed; every value reaches it as an argument.
 */
const NONLOCAL_BIND_EXEC = 'echo 1 > /proc/sys/net/ipv4/ip_nonlocal_bind && exec "$@"';

function engineWords(output: string, tempFile: string, dir: string, source: string): string {
  const lines = output
    .replaceAll(tempFile, source)
    .replaceAll(dir, '<its working directory>')
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean);
  return lines.slice(-MESSAGE_LINES).join('\n    ');
}

function inTempDir<T>(prefix: string, work: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    return work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** undefined when nginx accepts the file as the run will start it (the same flags); else nginx's own message. */
export function nginxCheckProblem(
  tools: { nginx: string; unshare: string },
  text: string,
  source: string,
): string | undefined {
  return inTempDir('waitlab-nginx-check-', (dir) => {
    const conf = join(dir, 'nginx.conf');
    writeFileSync(conf, text, { mode: 0o600, flag: 'wx' });
    const flags = [
      '-t',
      '-q',
      '-p',
      dir,
      '-c',
      conf,
      '-e',
      join(dir, 'error.log'),
      '-g',
      nginxUserGlobals(dir, inUserNamespace()),
    ];
    const r = spawnSync(tools.unshare, ['--net', '--', 'sh', '-c', NONLOCAL_BIND_EXEC, 'sh', tools.nginx, ...flags], {
      encoding: 'utf8',
      timeout: CHECK_TIMEOUT_MS,
      cwd: dir,
    });
    if (r.status === 0) return undefined;
    const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
    return `nginx -t refused it (${why}):\n    ${engineWords(`${r.stderr}${r.stdout}`, conf, dir, source)}`;
  });
}

/** undefined when `haproxy -c` accepts the file (it parses and resolves, and binds nothing); else HAProxy's own message. */
export function haproxyCheckProblem(haproxy: string, text: string, source: string): string | undefined {
  return inTempDir('waitlab-haproxy-check-', (dir) => {
    const conf = join(dir, 'haproxy.cfg');
    writeFileSync(conf, text, { mode: 0o600, flag: 'wx' });
    const r = spawnSync(haproxy, ['-c', '-f', conf], { encoding: 'utf8', timeout: CHECK_TIMEOUT_MS, cwd: dir });
    if (r.status === 0) return undefined;
    const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
    return `haproxy -c refused it (${why}):\n    ${engineWords(`${r.stderr}${r.stdout}`, conf, dir, source)}`;
  });
}
