// Cross-actor checks shared by the kinds' link(): naming a server actor to connect to, and a source address
// that must belong to the actor's own host.
import { isIpv4 } from '../core/units.ts';
import { ownValue } from '../core/own-keys.ts';
import type { LinkContext } from './actor.ts';

export interface ServerRef {
  readonly actor: string;
  readonly host: string;
  readonly address: string;
  readonly port: number;
}

/**
 * The server actor `name` as an address and port; pushes a problem (under `where`) when it is none. `over: 'ipv6'`
 * takes the IPv6 address of a dual-stack host (an IPv6 lab's hosts have no other).
 */
export function resolveServer(
  name: string,
  ctx: LinkContext,
  where: string,
  problems: string[],
  over?: 'ipv4' | 'ipv6',
): ServerRef | undefined {
  const target = ownValue(ctx.actors, name);
  const port = target?.options['port'];
  if (!target) problems.push(`${where}: no actor "${name}"`);
  else if (name === ctx.self.name) problems.push(`${where}: an actor cannot connect to itself`);
  else if (ctx.refused.has(name)) return undefined;
  else if (typeof port !== 'number')
    problems.push(`${where}: actor "${name}" (${target.kind}) does not listen on a port`);
  else if (Object.hasOwn(ctx.hosts, target.host)) {
    const host = ctx.hosts[target.host]!;
    const ipv6 = host.address.includes(':');
    if (over === undefined || (over === 'ipv6') === ipv6)
      return { actor: name, host: target.host, address: host.address, port };
    if (over === 'ipv6' && host.address6) return { actor: name, host: target.host, address: host.address6, port };
    problems.push(
      `${where}: host ${target.host} has no ${over === 'ipv6' ? 'IPv6' : 'IPv4'} address (the scenario's family is ${ipv6 ? 'ipv6' : 'ipv4'}; dual gives both)`,
    );
  }
  return undefined;
}

/** A source address to bind (already parsed as IPv4): the host's own, the wildcard or loopback (127.0.0.0/8), nothing else. */
export function checkOwnAddress(
  address: string | undefined,
  ctx: LinkContext,
  where: string,
  problems: string[],
): void {
  if (address === undefined) return;
  const own = ctx.hosts[ctx.self.host]?.address;
  if (address !== own && address !== '0.0.0.0' && !(isIpv4(address) && address.split('.')[0] === '127')) {
    problems.push(
      `${where}: ${address} is not an address of this actor's host (${own ?? 'unknown'}), 0.0.0.0 or loopback`,
    );
  }
}
