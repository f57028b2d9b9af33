// Installs the Debian or Fedora packages of missing system tools with the machine's own package manager. Packages
// only: no service may start on the machine itself (nginx's postinst would start one on :80), so apt runs under a
// policy-rc.d that refuses every start, the way Debian's own image builders install.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { LabCommandError } from '../core/errors.ts';
import { findExecutable } from '../core/executable-lookup.ts';
import type { SystemTool } from '../core/system-tools.ts';

export type PackageManager = 'apt-get' | 'dnf';

/** apt-get on Debian and Ubuntu, dnf on Fedora and RHEL; undefined elsewhere. */
export function packageManager(): PackageManager | undefined {
  if (findExecutable('apt-get')) return 'apt-get';
  if (findExecutable('dnf')) return 'dnf';
  return undefined;
}

export function packagesOf(tools: readonly SystemTool[], manager: PackageManager): string[] {
  return [...new Set(tools.map((t) => (manager === 'apt-get' ? t.apt : t.dnf)))].sort();
}

/** The commands that install `packages`, as a user would type them. */
export function installCommands(manager: PackageManager, packages: readonly string[]): string[][] {
  if (manager === 'dnf') return [['dnf', 'install', '-y', ...packages]];
  return [
    ['apt-get', 'update', '-qq'],
    ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...packages],
  ];
}

// invoke-rc.d and deb-systemd-invoke ask this script before starting a service: 101 is "action forbidden".
const POLICY_RC_D = '/usr/sbin/policy-rc.d';

/** Runs `work` with every service start refused; a policy-rc.d that was already there is left as it was. */
function withoutServiceStarts<T>(work: () => T): T {
  let fd: number | undefined;
  try {
    fd = openSync(POLICY_RC_D, 'wx', 0o755);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  if (fd === undefined) return work();
  try {
    writeSync(fd, '#!/bin/sh\n# written by waitlab setup while it installs packages: no service starts\nexit 101\n');
    closeSync(fd);
    return work();
  } finally {
    unlinkSync(POLICY_RC_D);
  }
}

/** Installs `packages`, the package manager's own output on stderr; throws naming the command that failed. */
export function installPackages(manager: PackageManager, packages: readonly string[]): void {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => {
    for (const [command, ...args] of installCommands(manager, packages)) {
      const r = spawnSync(command!, args, { stdio: ['ignore', 2, 2], env, timeout: 30 * 60_000 });
      if (r.status !== 0)
        throw new LabCommandError([command!, ...args], r.status, r.error?.message ?? 'see its output above');
    }
  };
  if (manager === 'apt-get') withoutServiceStarts(install);
  else install();
}
