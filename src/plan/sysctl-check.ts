// Which sysctls a lab host can have: those that exist inside a fresh network namespace on this kernel.
// Global net sysctls (e.g. net.ipv4.tcp_max_orphans) are registered for the initial namespace only, so
// they are absent in a new one: writing them would mean writing the machine's own, which the lab never does.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { closestName } from '../core/closest-name.ts';
import { sysctlSince } from './sysctl-values.ts';

const REMOVED: Readonly<Record<string, string>> = {
  'net.ipv4.tcp_tw_recycle':
    'was removed in Linux 4.12 (it broke clients behind NAT); net.ipv4.tcp_tw_reuse is what remains',
};

export function sysctlPath(name: string): string {
  return `/proc/sys/${name.replaceAll('.', '/')}`;
}

export interface SysctlAvailability {
  /** How the answer was obtained: in a throwaway namespace, or only from this process's own view. */
  readonly probedIn: 'fresh-netns' | 'current-netns';
  problems(names: readonly string[]): string[];
}

/**
 * Checks names in a throwaway, anonymous network namespace (`unshare --net`), which disappears when the
 * probe exits: nothing named is created and nothing is left behind.
 */
export function probeSysctls(names: readonly string[]): SysctlAvailability {
  const paths = names.map(sysctlPath);
  // "w <path>" for a sysctl a namespace may set, "r <path>" for one it only sees (a global one, 0444 there).
  const script =
    'for p in "$@"; do if [ -w "$p" ]; then echo "w $p"; elif [ -e "$p" ]; then echo "r $p"; fi; done; exit 0';
  const asRoot = process.getuid?.() === 0;
  const args = [...(asRoot ? [] : ['--user', '--map-root-user']), '--net', 'sh', '-c', script, 'sh', ...paths];
  const probe = names.length > 0 ? spawnSync('unshare', args, { encoding: 'utf8', timeout: 10_000 }) : undefined;
  const lines = probe && probe.status === 0 ? probe.stdout.split('\n').filter(Boolean) : undefined;
  const probed = lines ? new Set(lines.filter((l) => l.startsWith('w ')).map((l) => l.slice(2))) : undefined;
  const readOnly = new Set((lines ?? []).filter((l) => l.startsWith('r ')).map((l) => l.slice(2)));
  return {
    probedIn: probed ? 'fresh-netns' : 'current-netns',
    problems(toCheck) {
      const out: string[] = [];
      for (const name of toCheck) {
        const path = sysctlPath(name);
        if (REMOVED[name]) out.push(`sysctl ${name} ${REMOVED[name]}`);
        else if (readOnly.has(path))
          out.push(
            `sysctl ${name} is read-only in a network namespace on this kernel ${kernelRelease()}: it is the machine's own (global), which the lab never writes`,
          );
        else if (probed ? probed.has(path) : existsSync(path)) continue;
        else if (nearName(name))
          out.push(`sysctl ${name} does not exist on this kernel ${kernelRelease()}: did you mean ${nearName(name)}?`);
        else if (!inInitialNetns())
          out.push(
            `sysctl ${name} is not available in a network namespace on this kernel ${kernelRelease()} (it is global, or absent${sysctlSince(name) ? `; it came in Linux ${sysctlSince(name)}` : ''})`,
          );
        else if (existsSync(path))
          out.push(
            `sysctl ${name} is global on this kernel, not per network namespace: the lab only writes sysctls inside its own namespaces`,
          );
        else
          out.push(
            `sysctl ${name} does not exist on this kernel ${kernelRelease()}${sysctlSince(name) ? ` (it came in Linux ${sysctlSince(name)})` : ''}`,
          );
      }
      return out;
    },
  };
}

/** A sysctl beside a misspelt one that its name is a slip of (tcp_fin_timout: tcp_fin_timeout), read from /proc/sys. */
function nearName(name: string): string | undefined {
  const path = sysctlPath(name);
  if (existsSync(path)) return undefined;
  let siblings: string[];
  try {
    siblings = readdirSync(dirname(path));
  } catch {
    return undefined;
  }
  const near = closestName(name.slice(name.lastIndexOf('.') + 1), siblings);
  return near === undefined ? undefined : `${name.slice(0, name.lastIndexOf('.') + 1)}${near}`;
}

/** Only from the machine's own namespace can a global sysctl be told apart from one the kernel lacks. */
function inInitialNetns(): boolean {
  try {
    return readlinkSync('/proc/self/ns/net') === readlinkSync('/proc/1/ns/net');
  } catch {
    return false;
  }
}

function kernelRelease(): string {
  try {
    return spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim();
  } catch {
    return 'unknown';
  }
}

/** The kernel prints multi-value sysctls with tabs; compare and record them with single spaces. */
export function normaliseSysctlValue(value: string | number): string {
  return String(value).trim().split(/\s+/).join(' ');
}
