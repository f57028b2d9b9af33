// A network namespace's net sysctls read and written from a process outside it (an agent of many hosts, the lab's
// bridge namespace): each opened inside the namespace (sampler/netns-files.ts), never this process's own.
import { closeSync, writeSync } from 'node:fs';
import { constants } from 'node:os';
import { errnoName } from '../core/error-codes.ts';
import { sysctlPath } from '../plan/sysctl-check.ts';
import { openSysctlFileIn, openSysctlFilesIn, readWholeFd } from '../sampler/netns-files.ts';

const SYSCTL_NAME = /^net\.[a-z0-9_]+(\.[a-z0-9_-]+)+$/;

/** A net.* sysctl's path, the name checked first: it becomes a path that root opens (and maybe writes). */
function netSysctlPath(name: string): string {
  if (!SYSCTL_NAME.test(name))
    throw Object.assign(new Error(`not a net sysctl name: ${JSON.stringify(name)}`), { code: 'EINVAL' });
  return sysctlPath(name);
}

/** A net.* sysctl of the namespace, opened for reading or writing. */
export function openSysctlIn(namespace: string, name: string, writable = false): number {
  return openSysctlFileIn(namespace, netSysctlPath(name), writable);
}

/** The most files native/netns_files.c opens in one call. */
const FILES_AT_ONCE = 64;

/**
 * Several sysctls of the namespace as the kernel shows them, opened in one entry into it (an agent of
 * many hosts reads a dozen per host); a sysctl this kernel lacks (ENOENT) is left out.
 */
export function readSysctlsIn(namespace: string, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  let failure: unknown;
  // The addon opens at most FILES_AT_ONCE per call (native/netns_files.c MANY_MAX).
  for (let start = 0; start < names.length; start += FILES_AT_ONCE) {
    const some = names.slice(start, start + FILES_AT_ONCE);
    const fds = openSysctlFilesIn(namespace, some.map(netSysctlPath), false);
    // Every fd opened is closed, whatever a read of another one threw.
    for (const [i, fd] of fds.entries()) {
      if (fd >= 0) {
        try {
          if (failure === undefined) out[some[i]!] = readWholeFd(fd);
        } catch (err) {
          failure = err;
        } finally {
          closeSync(fd);
        }
      } else if (-fd !== constants.errno.ENOENT) {
        const code = errnoName(-fd) ?? 'EIO';
        failure ??= Object.assign(new Error(`${code}: open ${sysctlPath(some[i]!)} in ${namespace}`), { code });
      }
    }
  }
  if (failure !== undefined) throw failure;
  return out;
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
