// What the container-lab tests (compose, kube) check around every run: the machine's own forwarding and firewall as
// they were, and nothing of a lab left in Podman, /etc/cni/net.d or the link table. Podman as the machine's root:
// not an ordinary user, nor root of the user namespace `waitlab privileged` makes for one.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'vitest';
import { currentPrivilege } from '../../src/lab/privilege.ts';
import { describeWithTools } from './tools.ts';

export const asRoot = currentPrivilege() === 'root';
export const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' });
const lines = (s: string) => s.split('\n').filter(Boolean);

export function machineState(): { ipForward: string; ruleset: string } {
  return {
    ipForward: readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(),
    ruleset: sh('nft', ['list', 'ruleset']),
  };
}

/** Names Podman lists for objects labelled as a lab's: `ps -a`, `network ls`, `volume ls`, `pod ls`. */
export function labelled(object: 'ps' | 'network' | 'volume' | 'pod', format = '{{.Name}}'): string[] {
  const list = object === 'ps' ? ['ps', '-a'] : [object, 'ls'];
  return lines(sh('podman', [...list, '--filter', 'label=io.waitlab.lab', '--format', format]));
}

/** CNI files and bridges of labs named like `name` (a lab's network is named after its lab id). */
export function cniLeftovers(name: RegExp): { cniFiles: string[]; bridges: string[] } {
  return {
    cniFiles: readdirSync('/etc/cni/net.d').filter((f) => f.endsWith('.conflist') && name.test(f.slice(0, -9))),
    bridges: lines(sh('ip', ['-o', 'link', 'show']))
      .map((l) => l.split(':')[1]!.trim().split('@')[0]!)
      .filter((n) => name.test(n)),
  };
}

export const entries = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);

/** `describe` for a container lab: skipped, saying why, where this run is not the machine's root. */
export function describeContainerLab(lab: string, tools: readonly string[], body: () => void): void {
  if (asRoot) {
    describeWithTools(tools, lab, body);
    return;
  }
  describe(lab, () => {
    it.skip(`skipped: the ${lab} drives Podman as the machine's root, and this run is ${currentPrivilege() === 'user' ? 'an ordinary user' : 'root of a user namespace'}`, () =>
      undefined);
  });
}
