// Where a server actor listens, as each engine writes it. A host with an IPv6 address listens on '::' with
// IPV6_V6ONLY off (Linux's default for a socket, bindv6only=0; nginx and HAProxy say so explicitly, since nginx
// turns it on by default), so one listener takes IPv6 and IPv4 alike; IPv4 connections then arrive as
// IPv4-mapped addresses (::ffff:198.18.0.1), which the census reads as IPv4.
import type { ActorPlan } from '../core/plan.ts';
import { endpointText } from '../core/ipv6.ts';

export function listenHost(plan: Pick<ActorPlan, 'listenAddress'>): '0.0.0.0' | '::' {
  return plan.listenAddress === '::' ? '::' : '0.0.0.0';
}

/** nginx's `listen` arguments before any of its own parameters (backlog=...). */
export function nginxListen(host: '0.0.0.0' | '::', port: number): string {
  return host === '::' ? `${endpointText('::', port)} ipv6only=off` : endpointText(host, port);
}

/** HAProxy's `bind` arguments: v4v6 takes IPv4 on the IPv6 wildcard. */
export function haproxyBind(host: '0.0.0.0' | '::', port: number): string {
  return host === '::' ? `${endpointText('::', port)} v4v6` : endpointText(host, port);
}
