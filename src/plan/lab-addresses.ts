// Lab addresses come from 198.18.0.0/15 (RFC 2544, reserved for benchmarking) and nowhere else.
import { InvalidValueError } from '../core/errors.ts';
import { parseIpv6 } from '../core/ipv6.ts';

function toInt(address: string): number | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

const LAB_BASE = toInt('198.18.0.0')!;
const LAB_SIZE = 2 ** 17; // a /15

export function addressInLabNetwork(address: string): boolean {
  const n = toInt(address);
  return n !== undefined && n >= LAB_BASE && n < LAB_BASE + LAB_SIZE;
}

/** 198.18.0.1, 198.18.0.2, ...: the i-th host on the lab's /24. */
export function nthLabAddress(i: number): string {
  if (i < 0 || i > 253) throw new InvalidValueError(`a lab has at most 254 auto-addressed hosts`);
  return `198.18.0.${i + 1}`;
}

/** "198.18.<k>.0/24" inside the lab range, aligned: the only shape a lab network may have. */
export function parseLabSubnet(subnet: string): { base: string; prefixLength: 24 } | undefined {
  const m = /^(\d{1,3}\.\d{1,3}\.\d{1,3})\.0\/24$/.exec(subnet);
  if (!m || toInt(`${m[1]}.0`) === undefined || !addressInLabNetwork(`${m[1]}.0`)) return undefined;
  return { base: m[1]!, prefixLength: 24 };
}

/** The k-th /24 of the lab range: 198.18.0.0/24, 198.18.1.0/24, ... */
export function nthLabSubnet(k: number): string {
  if (k < 0 || k > 511) throw new InvalidValueError('a lab has at most 512 networks');
  const n = LAB_BASE + k * 256;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.0/24`;
}

export function addressInSubnet(address: string, subnet: string): boolean {
  // An IPv6 lab's networks are /64s of 2001:2::/48 (lab-addresses6.ts): the first four groups decide.
  if (subnet.includes(':')) return addressInSubnet6(address, subnet);
  const s = parseLabSubnet(subnet);
  return s !== undefined && address.startsWith(`${s.base}.`) && toInt(address) !== undefined;
}

function addressInSubnet6(address: string, subnet: string): boolean {
  const m = /^(.+)\/64$/.exec(subnet);
  const a = parseIpv6(address);
  const net = m ? parseIpv6(m[1]) : undefined;
  return a !== undefined && net !== undefined && [0, 1, 2, 3].every((i) => a[i] === net[i]);
}
