// Lab ownership and reaping. Each lab writes /run/waitlab/<lab>.json naming its controller (pid and the
// pid's start time, so a reused pid is not mistaken for the owner) before it creates anything. A lab whose
// owner is gone (SIGKILL, a crash) is reaped at the next start; a live owner's lab is never touched.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabTeardownError } from '../core/errors.ts';
import { removeNamespaces } from './namespace-removal.ts';

export const LABS_DIR = '/run/waitlab';
const NETNS_DIR = '/run/netns';
/** wl<controller pid>n<lab number>: namespaces are <lab>-<host> and <lab>-bridge. */
export const LAB_NAME = /^wl(\d+)n(\d+)$/;

export interface LabOwner {
  lab: string;
  pid: number;
  /** Field 22 of /proc/<pid>/stat: clock ticks since boot when the process started. */
  startTime: string;
  namespaces: string[];
}

export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * The labs of a container driver (each a directory of `dir` named by `pattern`, whose first group is its controller's
 * pid, holding owner.json) whose controller is dead, each with what its owner file said. A lab killed before its
 * owner file was written is judged by the pid in its name.
 */
export function deadOwnedLabs<T extends { pid: number; startTime: string }>(
  dir: string,
  pattern: RegExp,
): { lab: string; owner: Partial<T> }[] {
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => pattern.test(n));
  } catch {
    // no lab of this driver has run here
  }
  const dead: { lab: string; owner: Partial<T> }[] = [];
  for (const lab of names) {
    let owner: Partial<T> = {};
    try {
      owner = JSON.parse(readFileSync(join(dir, lab, 'owner.json'), 'utf8')) as T;
    } catch {
      // judged by its name below
    }
    const pid = Number.isInteger(owner.pid) ? owner.pid! : Number(pattern.exec(lab)![1]);
    if (!ownerAlive(pid, owner.startTime)) dead.push({ lab, owner });
  }
  return dead;
}

export function writeOwner(owner: LabOwner): void {
  mkdirSync(LABS_DIR, { recursive: true });
  writeFileSync(join(LABS_DIR, `${owner.lab}.json`), JSON.stringify(owner));
}

export function removeOwner(lab: string): void {
  rmSync(join(LABS_DIR, `${lab}.json`), { force: true });
}

function ownerAlive(pid: number, startTime: string | undefined): boolean {
  const now = processStartTime(pid);
  return now !== undefined && (startTime === undefined || now === startTime);
}

/** The named network namespaces: the files `ip netns add` bind-mounts in /run/netns (what `ip netns list` reads). */
export async function listNamespaces(): Promise<string[]> {
  try {
    return readdirSync(NETNS_DIR);
  } catch {
    // no namespace has been named on this machine (or in this user namespace's /run) yet
    return [];
  }
}

/** Reaps labs whose controller is dead. Returns the namespaces removed. */
export async function reapStaleLabs(): Promise<string[]> {
  const owners = new Map<string, LabOwner | undefined>();
  let files: string[] = [];
  try {
    files = readdirSync(LABS_DIR).filter((f) => f.endsWith('.json'));
  } catch {
    // no lab has ever run here
  }
  for (const f of files) {
    const name = f.slice(0, -5);
    // The file's name and its `lab` field become a namespace prefix and a path: both must be a lab's name.
    if (!LAB_NAME.test(name)) continue;
    try {
      const owner = JSON.parse(readFileSync(join(LABS_DIR, f), 'utf8')) as LabOwner;
      owners.set(name, owner.lab === name && Number.isInteger(owner.pid) ? owner : undefined);
    } catch {
      owners.set(name, undefined);
    }
  }
  const namespaces = await listNamespaces();
  // A namespace named like a lab but without an owner file: judge by the pid in its name.
  for (const ns of namespaces) {
    const lab = ns.split('-')[0]!;
    if (LAB_NAME.test(lab) && !owners.has(lab)) owners.set(lab, undefined);
  }
  const removed: string[] = [];
  for (const [lab, owner] of owners) {
    const pid = owner?.pid ?? Number(LAB_NAME.exec(lab)?.[1]);
    if (Number.isFinite(pid) && ownerAlive(pid, owner?.startTime)) continue;
    const mine = namespaces.filter((n) => n.startsWith(`${lab}-`) && /^[\w-]+$/.test(n));
    const left = await removeNamespaces(mine);
    if (left.length) throw new LabTeardownError(`reaping lab ${lab} left: ${left.join('; ')}`);
    removed.push(...mine);
    removeOwner(lab);
  }
  return removed;
}
