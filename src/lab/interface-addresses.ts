// The `ip addr add` arguments of one lab interface, each address parsed into its family first (they reach a
// command run as root). An IPv6 address is added with nodad: duplicate address detection would hold it
// "tentative" for about a second (connect() and bind() fail with EADDRNOTAVAIL meanwhile), and a lab's
// addresses are unique by construction.
import { isIP } from 'node:net';
import { WaitlabError } from '../core/errors.ts';
import type { InterfacePlan } from '../core/plan.ts';

function addressArgs(address: string, prefixLength: number): string[] {
  const family = isIP(address);
  const most = family === 6 ? 128 : 32;
  if (family === 0 || !Number.isInteger(prefixLength) || prefixLength < 1 || prefixLength > most)
    throw new WaitlabError(`refusing interface address ${JSON.stringify(address)}/${prefixLength}`);
  return family === 6 ? [`${address}/${prefixLength}`, 'nodad'] : [`${address}/${prefixLength}`];
}

/** One argument list per address of the interface: its own, then (dual stack) its IPv6 /64. */
export function interfaceAddressArgs(iface: Pick<InterfacePlan, 'address' | 'prefixLength' | 'address6'>): string[][] {
  return [addressArgs(iface.address, iface.prefixLength), ...(iface.address6 ? [addressArgs(iface.address6, 64)] : [])];
}
