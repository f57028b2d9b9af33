// IPv6 lab addresses come from 2001:2::/48 (RFC 5180, the IPv6 benchmarking prefix) and nowhere else. Each one is
// the image of the host's IPv4 lab address, so one assignment serves both families and a dual-stack host's two
// addresses read alike: 198.18.<k>.<n> (k counting /24s from 198.18.0.0) is 2001:2:0:<k>::<n>, its /24 the /64
// 2001:2:0:<k>::/64.
import { InvalidValueError } from '../core/errors.ts';
import { formatIpv6, parseIpv6 } from '../core/ipv6.ts';
import { addressInLabNetwork } from './lab-addresses.ts';

export const LAB_NETWORK6 = '2001:2::/48';
export const LAB_PREFIX6 = 64;

/** Whether an IPv6 address lies in 2001:2::/48. */
export function addressInLabNetwork6(address: string): boolean {
  const g = parseIpv6(address);
  return g !== undefined && g[0] === 0x2001 && g[1] === 0x0002 && g[2] === 0;
}

function v4Parts(address: string): { k: number; n: number } {
  if (!addressInLabNetwork(address)) throw new InvalidValueError(`${address} is not a lab address (198.18.0.0/15)`);
  const [, b, c, d] = address.split('.').map(Number) as [number, number, number, number];
  return { k: (b - 18) * 256 + c, n: d };
}

/** 198.18.<k>.<n> -> 2001:2:0:<k>::<n>. */
export function labAddress6Of(v4: string): string {
  const { k, n } = v4Parts(v4);
  return formatIpv6([0x2001, 2, 0, k, 0, 0, 0, n]);
}

/** 198.18.<k>.0/24 -> 2001:2:0:<k>::/64. */
export function labSubnet6Of(v4Subnet: string): string {
  const m = /^(.+)\/24$/.exec(v4Subnet);
  if (!m) throw new InvalidValueError(`${v4Subnet} is not a lab /24`);
  const { k } = v4Parts(m[1]!);
  return `${formatIpv6([0x2001, 2, 0, k, 0, 0, 0, 0])}/${LAB_PREFIX6}`;
}
