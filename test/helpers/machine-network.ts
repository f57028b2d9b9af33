// The machine's own network settings that a lab must never change: forwarding of both families, the nftables
// ruleset and the routing tables, read in the namespace the test runs in (the machine's).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface MachineNetwork {
  readonly ipv4Forward: string;
  readonly ipv6Forwarding: string;
  readonly ruleset: string;
  readonly routes4: string;
  readonly routes6: string;
}

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' });

export function machineNetwork(): MachineNetwork {
  return {
    ipv4Forward: readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(),
    ipv6Forwarding: readFileSync('/proc/sys/net/ipv6/conf/all/forwarding', 'utf8').trim(),
    ruleset: sh('nft', ['list', 'ruleset']),
    routes4: sh('ip', ['-4', 'route', 'show', 'table', 'all']),
    routes6: sh('ip', ['-6', 'route', 'show', 'table', 'all']),
  };
}
