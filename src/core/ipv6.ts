// IPv6 addresses as eight 16-bit groups, parsed strictly and printed in the one canonical text (RFC 5952:
// lower case, no leading zeros, the longest run of two or more zero groups as "::"), so that an address the
// plan wrote and one the census read back compare equal as strings. Endpoints print as [addr]:port.
import { isIPv6 } from 'node:net';

export type Ipv6Groups = readonly number[];

/** The eight groups of an IPv6 address in text (an embedded dotted quad is refused: the lab never writes one), or undefined. */
export function parseIpv6(text: unknown): Ipv6Groups | undefined {
  if (typeof text !== 'string' || !isIPv6(text) || text.includes('.') || text.includes('%')) return undefined;
  const [head, tail, ...more] = text.split('::');
  if (more.length) return undefined;
  const part = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const left = part(head);
  if (tail === undefined) return left.length === 8 ? left : undefined;
  const right = part(tail);
  const zeros = 8 - left.length - right.length;
  return zeros >= 1 ? [...left, ...new Array<number>(zeros).fill(0), ...right] : undefined;
}

export function isIpv6(text: unknown): text is string {
  return parseIpv6(text) !== undefined;
}

/** RFC 5952 text of eight groups. */
export function formatIpv6(groups: Ipv6Groups): string {
  let bestAt = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestAt, bestLength] = [i, j - i];
    i = j;
  }
  const hex = (gs: Ipv6Groups) => gs.map((g) => g.toString(16)).join(':');
  if (bestAt < 0) return hex(groups);
  return `${hex(groups.slice(0, bestAt))}::${hex(groups.slice(bestAt + bestLength))}`;
}

/** The canonical text of an address given in any valid form; undefined for anything else. */
export function canonicalIpv6(text: unknown): string | undefined {
  const groups = parseIpv6(text);
  return groups ? formatIpv6(groups) : undefined;
}

/** The canonical text of 16 address bytes in network order (a sock_diag record's idiag_src/idiag_dst). */
export function ipv6OfBytes(buf: Uint8Array, at: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((buf[at + i]! << 8) | buf[at + i + 1]!);
  return formatIpv6(groups);
}

/** "198.18.0.2:8080", "[2001:2::2]:8080": an address and port as URLs, nginx and ss write them. */
export function endpointText(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The address as a URL's host: IPv6 in brackets. */
export function urlHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}
