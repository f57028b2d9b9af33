// The addresses of the interfaces an agent sees in its host, said in its hello: where a cluster's CNI (not the
// plan) chose a pod's address, the controller learns the host's address from them. Loopback and IPv6 link-local
// (fe80::/10) addresses are left out: no other host reaches this one at them.
import { networkInterfaces } from 'node:os';

const LINK_LOCAL6 = /^fe[89ab][0-9a-f]:/i;

export interface InterfaceAddress {
  readonly dev: string;
  readonly address: string;
  readonly prefixLength: number;
}

export function ownAddresses(): InterfaceAddress[] {
  return Object.entries(networkInterfaces()).flatMap(([dev, list]) =>
    (list ?? [])
      .filter((a) => !a.internal && !LINK_LOCAL6.test(a.address))
      .map((a) => ({ dev, address: a.address, prefixLength: Number(a.cidr?.split('/')[1] ?? 0) })),
  );
}
