// The run's directory: always its own. Two runs in the same second get two directories; an --out that another
// user could have prepared (not ours, writable by others, a symlink, not empty) is refused, because root writes
// there, and so is one below a directory or a symlink another user could change (core/trusted-path.ts);
// pseudo file systems are refused before mkdir (procfs answers mkdir in ways that never end).
import { lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../core/errors.ts';
import { makeTrustedDirectory } from '../core/trusted-path.ts';

const PSEUDO = ['/proc', '/sys', '/dev'];

function mkdirError(dir: string, err: unknown): UsageError {
  const e = err as NodeJS.ErrnoException;
  return new UsageError(
    `cannot create the run directory ${dir}: ${e.code ?? ''} ${e.code === 'ENOTDIR' ? '(a part of the path is a file)' : e.code === 'EACCES' || e.code === 'EROFS' ? '(not writable)' : e.message}`.trim(),
  );
}

function checkNotPseudo(dir: string): void {
  if (PSEUDO.some((p) => dir === p || dir.startsWith(`${p}/`)))
    throw new UsageError(`${dir}: a run directory cannot be under ${PSEUDO.join(', ')}`);
}

/** The real path of the directory a run directory goes into, made where missing; checked for pseudo file systems before and after the walk. */
function parentOf(dir: string): string {
  checkNotPseudo(dir);
  const parent = makeTrustedDirectory(dirname(dir));
  checkNotPseudo(parent);
  return parent;
}

/** An --out given by the user: created, or an existing empty directory of ours that no one else can write. */
export function prepareOutDir(path: string): string {
  const dir = join(parentOf(resolve(path)), basename(resolve(path)));
  try {
    mkdirSync(dir, { mode: 0o755 });
    return dir;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw mkdirError(dir, err);
  }
  const st = lstatSync(dir);
  if (st.isSymbolicLink()) throw new UsageError(`--out ${dir} is a symbolic link: name the directory itself`);
  if (!st.isDirectory()) throw new UsageError(`--out ${dir} exists and is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid)
    throw new UsageError(`--out ${dir} belongs to uid ${st.uid}, not to this user (${uid}): name a new directory`);
  if (st.mode & 0o022)
    throw new UsageError(
      `--out ${dir} is writable by other users (mode ${(st.mode & 0o777).toString(8)}): name a new directory`,
    );
  if (readdirSync(dir).length > 0)
    throw new UsageError(`--out ${dir} is not empty: one directory per run (name a new one)`);
  return dir;
}

/** reports/<scenario>/<timestamp>, with -2, -3, ... when that name is taken: mkdir of the last part is the lock. */
export function prepareDefaultRunDir(base: string): string {
  const parent = parentOf(resolve(base));
  for (let k = 1; k < 1000; k++) {
    const dir = join(parent, k === 1 ? basename(base) : `${basename(base)}-${k}`);
    try {
      mkdirSync(dir, { mode: 0o755 });
      return dir;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw mkdirError(dir, err);
    }
  }
  throw new UsageError(`more than 999 runs of ${base} in one second`);
}
