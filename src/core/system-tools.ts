// Every system tool waitlab uses, in one list: what needs it and which package provides it. `waitlab setup` installs
// from it, plan validation names its packages, and the tests skip on it (test/helpers/tools.ts).
import { spawnSync } from 'node:child_process';
import { findExecutable } from './executable-lookup.ts';

/** What needs a tool, as a user would look for it. Scenarios are not listed: plans declare their tools (Plan.tools). */
export interface ToolNeeds {
  readonly drivers?: readonly string[];
  readonly commands?: readonly string[];
  readonly actors?: readonly string[];
  /** Test groups: the files of test/ whose tests skip without it. */
  readonly tests?: readonly string[];
}

export interface SystemTool {
  /** The name users type and tests name: `waitlab setup --only nginx`. */
  readonly name: string;
  /** Executables that provide it, looked up in PATH and the sbin directories; an absolute path is checked as it is. */
  readonly executables: readonly string[];
  /** Arguments that print its version (on stdout or stderr). */
  readonly versionArgs: readonly string[];
  readonly apt: string;
  readonly dnf: string;
  readonly needs: ToolNeeds;
}

export const SYSTEM_TOOLS: readonly SystemTool[] = [
  {
    name: 'ip',
    executables: ['ip'],
    versionArgs: ['-V'],
    apt: 'iproute2',
    dnf: 'iproute',
    needs: { drivers: ['netns'], commands: ['scenario', 'watch', 'doctor'], tests: ['lab', 'slow'] },
  },
  {
    name: 'ss',
    executables: ['ss'],
    versionArgs: ['-V'],
    apt: 'iproute2',
    dnf: 'iproute',
    needs: { commands: ['bench'], tests: ['lab/sampler'] },
  },
  {
    name: 'unshare',
    executables: ['unshare'],
    versionArgs: ['--version'],
    apt: 'util-linux',
    dnf: 'util-linux',
    needs: {
      drivers: ['netns'],
      actors: ['proxy (nginx, haproxy)', 'http-server (engine nginx)'],
      tests: ['lab', 'slow'],
    },
  },
  {
    name: 'mount',
    executables: ['mount'],
    versionArgs: ['--version'],
    apt: 'mount',
    dnf: 'util-linux',
    needs: { drivers: ['netns'], tests: ['lab', 'slow'] },
  },
  {
    name: 'prlimit',
    executables: ['prlimit'],
    versionArgs: ['--version'],
    apt: 'util-linux',
    dnf: 'util-linux',
    needs: { drivers: ['netns (hosts with limits.nofile)'] },
  },
  {
    name: 'setpriv',
    executables: ['setpriv'],
    versionArgs: ['--version'],
    apt: 'util-linux',
    dnf: 'util-linux',
    needs: { actors: ['proxy (nginx, haproxy)', 'http-server (engine nginx)', 'process'] },
  },
  {
    name: 'nsenter',
    executables: ['nsenter'],
    versionArgs: ['--version'],
    apt: 'util-linux',
    dnf: 'util-linux',
    needs: { commands: ['watch --netns/--pid/--run', 'doctor --netns/--pid'], tests: ['lab/watch-doctor'] },
  },
  {
    name: 'nginx',
    executables: ['nginx'],
    versionArgs: ['-v'],
    apt: 'nginx',
    dnf: 'nginx',
    needs: {
      actors: ['proxy (engine nginx)', 'http-server (engine nginx)'],
      tests: ['lab/proxy-*', 'lab/http-server-nginx', 'lab/faults', 'lab/truth-matrix', 'unit/lab/compose-file'],
    },
  },
  {
    name: 'haproxy',
    executables: ['haproxy'],
    versionArgs: ['-v'],
    apt: 'haproxy',
    dnf: 'haproxy',
    needs: { actors: ['proxy (engine haproxy)'], tests: ['lab/proxy-haproxy', 'lab/proxy-config'] },
  },
  {
    name: 'nft',
    executables: ['nft'],
    versionArgs: ['--version'],
    apt: 'nftables',
    dnf: 'nftables',
    needs: { drivers: ['netns (masquerading gateways)'], tests: ['lab/catalogue-nat-single-source', 'lab/faults'] },
  },
  {
    name: 'python3',
    executables: ['python3'],
    versionArgs: ['--version'],
    apt: 'python3',
    dnf: 'python3',
    needs: { actors: ['listener'], tests: ['lab/process-actor'] },
  },
  {
    name: 'chromium',
    executables: ['chromium', 'chromium-browser'],
    versionArgs: ['--version'],
    apt: 'chromium',
    dnf: 'chromium',
    needs: { tests: ['lab/report-html'] },
  },
  {
    name: 'tmux',
    executables: ['tmux'],
    versionArgs: ['-V'],
    apt: 'tmux',
    dnf: 'tmux',
    needs: { tests: ['lab/watch-doctor (the live screen)'] },
  },
  {
    name: 'podman',
    executables: ['podman'],
    versionArgs: ['--version'],
    apt: 'podman',
    dnf: 'podman',
    needs: { drivers: ['compose', 'kube'], commands: ['compose'], tests: ['lab/compose', 'slow/kube'] },
  },
  {
    name: 'runc',
    executables: ['runc'],
    versionArgs: ['--version'],
    apt: 'runc',
    dnf: 'runc',
    needs: { drivers: ['compose'], tests: ['lab/compose'] },
  },
  {
    name: 'catatonit',
    executables: ['catatonit', '/usr/libexec/podman/catatonit'],
    versionArgs: ['--version'],
    apt: 'catatonit',
    dnf: 'catatonit',
    needs: { drivers: ["kube (podman kube play's pause image)"], tests: ['slow/kube'] },
  },
  {
    name: 'docker-compose',
    executables: ['docker-compose'],
    versionArgs: ['--version'],
    apt: 'docker-compose',
    dnf: 'docker-compose',
    needs: { drivers: ['compose'], tests: ['lab/compose'] },
  },
  {
    name: 'tcpdump',
    executables: ['tcpdump'],
    versionArgs: ['--version'],
    apt: 'tcpdump',
    dnf: 'tcpdump',
    needs: {
      commands: ["scenario --capture (packet captures of a run; under --driver compose, the image's own)"],
      tests: ['lab/capture'],
    },
  },
  {
    name: 'cc',
    executables: ['cc', 'gcc'],
    versionArgs: ['--version'],
    apt: 'gcc',
    dnf: 'gcc',
    needs: { commands: ['npm ci (the netlink census and native flood addons)'] },
  },
  {
    name: 'make',
    executables: ['make'],
    versionArgs: ['--version'],
    apt: 'make',
    dnf: 'make',
    needs: { commands: ['npm ci (the native addons)'] },
  },
  {
    name: 'wrk',
    executables: ['wrk'],
    versionArgs: ['-v'],
    apt: 'wrk',
    dnf: 'wrk',
    needs: { commands: ['npm run bench'] },
  },
  {
    name: 'ab',
    executables: ['ab'],
    versionArgs: ['-V'],
    apt: 'apache2-utils',
    dnf: 'httpd-tools',
    needs: { commands: ['npm run bench'] },
  },
  {
    name: 'time',
    executables: ['/usr/bin/time'],
    versionArgs: ['--version'],
    apt: 'time',
    dnf: 'time',
    needs: { commands: ['npm run bench'] },
  },
];

const BY_NAME = new Map(SYSTEM_TOOLS.map((t) => [t.name, t]));

export function systemTool(name: string): SystemTool | undefined {
  return BY_NAME.get(name);
}

/** Where a tool is on this machine, or undefined. */
export function locateTool(tool: SystemTool): string | undefined {
  for (const executable of tool.executables) {
    const found = executable.startsWith('/') ? findExecutable(executable, executable) : findExecutable(executable);
    if (found) return found;
  }
  return undefined;
}

/** Whether a tool of the list is on this machine. */
export function hasTool(name: string): boolean {
  const tool = systemTool(name);
  if (!tool) throw new Error(`no system tool named ${name}`);
  return locateTool(tool) !== undefined;
}

/** The first line a tool prints of its version, or undefined when it prints none within a few seconds. */
export function toolVersion(tool: SystemTool, path: string): string | undefined {
  const r = spawnSync(path, tool.versionArgs, { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const text = `${r.stdout ?? ''}\n${r.stderr ?? ''}`
    .split('\n')
    .map((l) => l.trim())
    .find(Boolean);
  return text === undefined ? undefined : text.slice(0, 80);
}

/** How to get tools that are missing, for an error message: the package and `waitlab setup`. */
export function installHint(names: readonly string[]): string {
  const tools = names.map((n) => systemTool(n)).filter((t): t is SystemTool => t !== undefined);
  const apt = [...new Set(tools.map((t) => t.apt))].join(' ');
  return `npx waitlab setup --only ${names.join(',')} installs ${names.length === 1 ? 'it' : 'them'} (apt-get install ${apt})`;
}
