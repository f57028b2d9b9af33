// A plan moved to the addresses its lab's network gave the hosts. On a cluster the CNI, not the plan, chooses a
// pod's address, so every place the plan wrote a host's planned address (a client's target, a proxy's upstreams
// and its generated nginx.conf, the connection models' destinations that budgets and predictions read, a
// threshold naming a peer) must name the learned one before any actor starts. Every string of the plan but the
// scenario's own name and file is rewritten in one pass, so two hosts that swap addresses do not chain.
import { isIpv6 } from '../core/ipv6.ts';
import { deepFreeze, type Plan } from '../core/plan.ts';

/** Planned address -> the address the lab's network gave that host. */
export type AddressMoves = Readonly<Record<string, string>>;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One pattern for every planned address, none matching inside a longer address (198.18.0.1 in 198.18.0.10). */
function movesPattern(planned: readonly string[]): RegExp {
  const longestFirst = [...planned].sort((a, b) => b.length - a.length).map(escapeRegExp);
  const v4 = longestFirst.filter((a) => !a.includes(':'));
  const v6 = longestFirst.filter((a) => a.includes(':'));
  const parts = [
    ...(v4.length ? [`(?<![\\w.])(?:${v4.join('|')})(?![\\w]|\\.\\d)`] : []),
    ...(v6.length ? [`(?<![\\w:])(?:${v6.join('|')})(?![\\w:])`] : []),
  ];
  return new RegExp(parts.join('|'), 'gi');
}

function rewrite(value: unknown, replace: (text: string) => string): unknown {
  if (typeof value === 'string') return replace(value);
  if (Array.isArray(value)) return value.map((v) => rewrite(v, replace));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [replace(k), rewrite(v, replace)]));
  return value;
}

/** The plan with every planned address of `moves` replaced by its learned one; the plan itself when nothing moves. */
export function relocatePlan(plan: Plan, moves: AddressMoves): Plan {
  const moved = Object.entries(moves).filter(([from, to]) => from !== to);
  if (!moved.length) return plan;
  const to = new Map(moved.map(([from, address]) => [isIpv6(from) ? from.toLowerCase() : from, address]));
  const pattern = movesPattern([...to.keys()]);
  const replace = (text: string) => text.replace(pattern, (found) => to.get(found.toLowerCase()) ?? found);
  return deepFreeze(
    Object.fromEntries(Object.entries(plan).map(([k, v]) => [k, k === 'scenario' ? v : rewrite(v, replace)])) as Plan,
  );
}
