// The compose lab's network under Podman's CNI backend, made by the driver instead of by compose: Podman's own
// networks (`podman network create`, or compose asking it) chain CNI's firewall plugin, which adds CNI-FORWARD
// and CNI-ADMIN chains to the machine's own iptables that stay after the network is gone. This one is a bridge and
// nothing else: no gateway address on the bridge, no masquerade, no firewall rules, no ip_forward. Compose uses it
// as an external network.
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../core/command.ts';

export const CNI_CONFIG_DIR = '/etc/cni/net.d';
/** host-local IPAM's leases, one directory per network. */
const CNI_LEASES_DIR = '/var/lib/cni/networks';

/** The addresses host-local may give out, first to last; absent: the whole subnet but the gateway. */
export interface AddressRange {
  readonly start: string;
  readonly end: string;
}

function cniNetworkConfig(name: string, subnet: string, gateway: string, lab: string, range?: AddressRange): string {
  return JSON.stringify(
    {
      cniVersion: '0.4.0',
      name,
      args: { podman_labels: { 'io.waitlab.lab': lab } },
      plugins: [
        {
          type: 'bridge',
          // A network interface name: at most 15 characters (IFNAMSIZ); the lab's name is at most 13.
          bridge: name,
          isGateway: false,
          ipMasq: false,
          hairpinMode: true,
          // host-local keeps the gateway address back even when no one holds it: compose-file.ts picks one no host has.
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet, gateway, ...(range ? { rangeStart: range.start, rangeEnd: range.end } : {}) }]],
          },
          capabilities: { ips: true },
        },
      ],
    },
    null,
    2,
  );
}

export function writeCniNetwork(
  name: string,
  subnet: string,
  gateway: string,
  lab: string,
  range?: AddressRange,
): void {
  mkdirSync(CNI_CONFIG_DIR, { recursive: true, mode: 0o755 });
  // O_EXCL: never over a file someone else put there.
  const fd = openSync(join(CNI_CONFIG_DIR, `${name}.conflist`), 'wx', 0o644);
  try {
    writeSync(fd, cniNetworkConfig(name, subnet, gateway, lab, range));
  } finally {
    closeSync(fd);
  }
}

/** Removes the network, its bridge, its config file and its leases; what was already gone is not an error. */
export async function removeCniNetwork(name: string): Promise<void> {
  await run('podman', ['network', 'rm', '--force', name]).catch(() => undefined);
  rmSync(join(CNI_CONFIG_DIR, `${name}.conflist`), { force: true });
  rmSync(join(CNI_LEASES_DIR, name), { recursive: true, force: true });
  await run('ip', ['link', 'del', name]).catch(() => undefined);
}
