// Finds executables by name, in PATH and the sbin directories, the way the lab's commands will be run.
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

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
