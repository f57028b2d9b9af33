// Where a run writes, no other user may steer. Every directory on the way to a path, and every symbolic link
// followed, must belong to root or to this user, and no directory may be writable by others unless it is
// sticky (/tmp: there no one else can rename or remove what is ours). Then nothing on the path can change
// between the check and the writes, so files are still written by name: Node has no openat(), and one handle on
// the last directory would not cover a parent swapped for a symlink before it was opened.
import { lstatSync, mkdirSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { UsageError } from './errors.ts';
import { inUserNamespace } from './user-namespace.ts';

// The kernel's own limit on symbolic links followed in one lookup (ELOOP past it).
const MAX_SYMLINKS = 40;

interface TrustedIds {
  readonly uids: ReadonlySet<number>;
  readonly gids: ReadonlySet<number>;
}

function kernelNumber(file: string, fallback: number): number {
  try {
    return Number(readFileSync(file, 'utf8').trim());
  } catch {
    return fallback;
  }
}

function trustedIds(uid: number, gid: number): TrustedIds {
  const uids = new Set([0, uid]);
  const gids = new Set([0, gid]);
  // In a user namespace (a rootless run) the machine's root shows as the overflow id, like every unmapped user,
  // and this process holds only its user's own rights: it cannot be steered into writing what that user could not.
  if (inUserNamespace()) {
    uids.add(kernelNumber('/proc/sys/kernel/overflowuid', 65534));
    gids.add(kernelNumber('/proc/sys/kernel/overflowgid', 65534));
  }
  return { uids, gids };
}

function untrustedBecause(path: string, st: Stats, ids: TrustedIds): string | undefined {
  if (!ids.uids.has(st.uid)) return `${path} belongs to uid ${st.uid}`;
  if (!st.isDirectory() || st.mode & 0o1000) return undefined;
  const mode = (st.mode & 0o777).toString(8);
  if (st.mode & 0o002) return `${path} is writable by every user (mode ${mode})`;
  if (st.mode & 0o020 && !ids.gids.has(st.gid)) return `${path} is writable by group ${st.gid} (mode ${mode})`;
  return undefined;
}

function refuse(given: string, why: string, read = false): UsageError {
  return new UsageError(
    `${given}: ${why}, so another user could ${read ? 'change what is read' : 'redirect what is written'} there: name a path whose every directory${read ? ' and the file itself' : ''} belongs to you or to root and is writable by no one else`,
  );
}

/**
 * The deepest existing directory of `path` (its real path, every part checked) and the names still missing below
 * it; with `file`, the path may end in a file (checked like the directories before it), returned as `real`.
 */
function walk(given: string, ids: TrustedIds, file = false): { real: string; missing: string[] } {
  const root = lstatSync('/');
  const rootWhy = untrustedBecause('/', root, ids);
  if (rootWhy) throw refuse(given, rootWhy, file);
  const pending = resolve(given).split('/');
  let real = '/';
  let links = 0;
  while (pending.length) {
    const name = pending.shift()!;
    if (name === '' || name === '.') continue;
    if (name === '..') {
      real = resolve(real, '..');
      continue;
    }
    const next = join(real, name);
    let st: Stats;
    try {
      st = lstatSync(next);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { real, missing: [name, ...pending] };
      throw new UsageError(
        `${given}: cannot look at ${next}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    const why = untrustedBecause(next, st, ids);
    if (why) throw refuse(given, why, file);
    if (st.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) throw new UsageError(`${given}: ELOOP (more than ${MAX_SYMLINKS} symbolic links)`);
      const target = readlinkSync(next);
      pending.unshift(...target.split('/'));
      if (isAbsolute(target)) real = '/';
      continue;
    }
    if (!st.isDirectory()) {
      if (file && pending.every((n) => n === '' || n === '.')) return { real: next, missing: [] };
      throw new UsageError(`${given}: ENOTDIR (a part of the path is a file: ${next})`);
    }
    real = next;
  }
  return { real, missing: [] };
}

function ids(): TrustedIds | undefined {
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  return uid === undefined || gid === undefined ? undefined : trustedIds(uid, gid);
}

/** An existing directory that no other user can redirect: its real path. */
export function trustedDirectory(given: string): string {
  const trusted = ids();
  if (!trusted) return resolve(given);
  const { real, missing } = walk(given, trusted);
  if (missing.length) throw new UsageError(`${given}: ENOENT (no ${join(real, missing[0]!)})`);
  return real;
}

/**
 * An existing file to read as root that no other user can swap or rewrite: every directory on the way and every
 * symbolic link as for trustedDirectory, and the file itself belonging to root or this user and writable by
 * no one else. Returns its real path (read it with core/input-file.ts, which refuses all but a regular file).
 */
export function trustedFile(given: string): string {
  const trusted = ids();
  if (!trusted) return resolve(given);
  const { real, missing } = walk(given, trusted, true);
  if (missing.length) throw new UsageError(`${given}: ENOENT (no ${join(real, missing[0]!)})`);
  const st = lstatSync(real);
  const mode = (st.mode & 0o777).toString(8);
  if (st.isDirectory()) throw new UsageError(`${given} is a directory: give a file`);
  if (st.mode & 0o002) throw refuse(given, `${real} is writable by every user (mode ${mode})`, true);
  if (st.mode & 0o020 && !trusted.gids.has(st.gid))
    throw refuse(given, `${real} is writable by group ${st.gid} (mode ${mode})`, true);
  return real;
}

/**
 * A directory that no other user can redirect, made where missing (mode 0755, one part at a time: a part that
 * someone else made first in a sticky directory is checked like any other). Returns its real path.
 */
export function makeTrustedDirectory(given: string): string {
  const trusted = ids();
  if (!trusted) {
    mkdirSync(given, { recursive: true, mode: 0o755 });
    return resolve(given);
  }
  const { real, missing } = walk(given, trusted);
  let dir = real;
  for (const name of missing) {
    if (name === '' || name === '.') continue;
    if (name === '..') {
      dir = resolve(dir, '..');
      continue;
    }
    const next = join(dir, name);
    try {
      mkdirSync(next, { mode: 0o755 });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST')
        throw new UsageError(
          `cannot create ${next}: ${code ?? (err as Error).message}${code === 'EACCES' || code === 'EROFS' ? ' (not writable)' : ''}`,
        );
    }
    const st = lstatSync(next);
    const why = untrustedBecause(next, st, trusted) ?? (st.isDirectory() ? undefined : `${next} is not a directory`);
    if (why) throw refuse(given, why);
    dir = next;
  }
  return dir;
}
