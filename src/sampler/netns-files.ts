// Files of a lab host's network namespace opened from a process that runs outside it (native/netns_files.c): the
// addon opens each with the calling thread moved into the namespace for the call (and back) and hands back the fd,
// which keeps that namespace for its life, so a read at offset 0 from any thread later is the host's.
import { readSync } from 'node:fs';
import { errnoName } from '../core/error-codes.ts';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { PACKAGE_ROOT } from '../core/paths.ts';
import { namedNamespacePath } from './sock-diag.ts';

export const NETNS_FILES_ADDON_PATH = resolve(PACKAGE_ROOT, 'build/Release/netns_files.node');

interface NetnsFilesAddon {
  openIn(namespacePath: string, filePath: string, writable: boolean): number;
  /** Each path's fd, or the negative errno of its open, all opened in one entry into the namespace. */
  openAllIn(namespacePath: string, filePaths: readonly string[], writable: boolean): number[];
}

let addon: NetnsFilesAddon | undefined;
const loadAddon = (): NetnsFilesAddon =>
  (addon ??= createRequire(import.meta.url)(NETNS_FILES_ADDON_PATH) as NetnsFilesAddon);

/** The per-namespace tables of /proc/net that the sampler and the counters read. */
export type ProcNetTable = 'snmp' | 'netstat' | 'sockstat' | 'tcp' | 'tcp6';

/** Files under /proc/sys/net/ of the namespace (64 at most), all opened by one thread: an fd or -errno each. */
export function openSysctlFilesIn(namespace: string, paths: readonly string[], writable: boolean): number[] {
  return loadAddon().openAllIn(namedNamespacePath(namespace), paths, writable);
}

/** A file under /proc/sys/net/ of the namespace, opened for reading or for writing. */
export function openSysctlFileIn(namespace: string, path: string, writable: boolean): number {
  return loadAddon().openIn(namedNamespacePath(namespace), path, writable);
}

/**
 * /proc/thread-self/net, not /proc/self/net: the latter is the namespace of the process's main thread, and the
 * file must be the one of the thread that entered the host.
 */
export function openProcNetIn(namespace: string, table: ProcNetTable): number {
  return loadAddon().openIn(namedNamespacePath(namespace), `/proc/thread-self/net/${table}`, false);
}

/**
 * Several tables of the namespace's /proc/net opened in one entry into it: each host of an agent of many hosts opens
 * three. Each table's fd, or an error whose code is its open's errno name.
 */
export function openProcNetTablesIn(namespace: string, tables: readonly ProcNetTable[]): (number | Error)[] {
  const fds = loadAddon().openAllIn(
    namedNamespacePath(namespace),
    tables.map((t) => `/proc/thread-self/net/${t}`),
    false,
  );
  return fds.map((fd, i) =>
    fd >= 0
      ? fd
      : Object.assign(new Error(`open /proc/thread-self/net/${tables[i]} of ${namespace}: errno ${-fd}`), {
          code: errnoName(-fd) ?? 'EIO',
          errno: -fd,
        }),
  );
}

/** The whole text of an fd from offset 0 (a sysctl's value is a line; proc files regenerate at 0). */
export function readWholeFd(fd: number): string {
  const chunks: Buffer[] = [];
  let position = 0;
  for (;;) {
    const chunk = Buffer.alloc(4096);
    const n = readSync(fd, chunk, 0, chunk.length, position);
    if (n === 0) return Buffer.concat(chunks).toString('latin1');
    chunks.push(chunk.subarray(0, n));
    position += n;
  }
}
