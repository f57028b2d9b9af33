// A lab host's net sysctls read and written from a process outside the host (an agent that serves many hosts):
// each opened on a thread that entered the host's namespace (sampler/netns-files.ts), never this process's own.
import { closeSync, writeSync } from 'node:fs';
import { sysctlPath } from '../plan/sysctl-check.ts';
import { openSysctlFileIn, readWholeFd } from '../sampler/netns-files.ts';

const SYSCTL_NAME = /^net\.[a-z0-9_]+(\.[a-z0-9_-]+)+$/;

/** A net.* sysctl of the namespace, checked first: the name becomes a path that root opens (and maybe writes). */
export function openSysctlIn(namespace: string, name: string, writable = false): number {
  if (!SYSCTL_NAME.test(name))
    throw Object.assign(new Error(`not a net sysctl name: ${JSON.stringify(name)}`), { code: 'EINVAL' });
  return openSysctlFileIn(namespace, sysctlPath(name), writable);
}

/** A sysctl of the namespace as the kernel shows it; undefined where this kernel lacks it (ENOENT). */
export function readSysctlIn(namespace: string, name: string): string | undefined {
  let fd: number;
  try {
    fd = openSysctlIn(namespace, name);
  } catch (err) {
    // A sysctl this kernel lacks; a namespace that is missing (its own ENOENT, syscall open(namespace)) is an error.
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' && e.syscall === 'open') return undefined;
    throw err;
  }
  try {
    return readWholeFd(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes a sysctl of the namespace (never this process's own): one write, as `sysctl -w` does. */
export function writeSysctlIn(namespace: string, name: string, value: string): void {
  const fd = openSysctlIn(namespace, name, true);
  try {
    writeSync(fd, `${value}\n`, 0);
  } finally {
    closeSync(fd);
  }
}
