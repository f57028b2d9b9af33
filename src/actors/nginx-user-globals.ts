// What waitlab needs of an nginx that runs the user's own file, given on its command line (`-g`) rather than
// written into the file: in the foreground (the agent is its parent and stops it), its pid file and an error
// log that waitlab tails inside the run's working directory, and in a user namespace a master serving alone.
// A top-level `daemon`, `pid` or `master_process` in the user's file would be a duplicate: it is refused at
// plan time (OWNED_NGINX_DIRECTIVES), with the reason.
import { InvalidValueError } from '../core/errors.ts';

/** Top-level directives waitlab sets itself, each with why. */
export const OWNED_NGINX_DIRECTIVES: Readonly<Record<string, string>> = {
  daemon: 'waitlab runs nginx in the foreground (-g "daemon off;") so that its agent can stop it and see it exit',
  pid: 'waitlab puts nginx\'s pid file in the run\'s working directory (-g "pid <dir>/nginx.pid;")',
  master_process:
    'waitlab sets it where it must (master_process off in a user namespace, where workers cannot change user)',
};

/** The `-g` directives for a user's file: the foreground, the pid file and the error log waitlab counts, all in `dir`. */
export function nginxUserGlobals(dir: string, rootless: boolean): string {
  if (!/^\/[\w./-]+$/.test(dir))
    throw new InvalidValueError(`refusing an nginx working directory ${JSON.stringify(dir)}`);
  // error_log may be given more than once at the top level (nginx 1.5.2+): the user's own logs keep working beside it.
  return [
    'daemon off;',
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log warn;`,
    ...(rootless ? ['master_process off;'] : []),
  ].join(' ');
}
