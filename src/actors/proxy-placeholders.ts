// The named placeholders of a user's own nginx.conf or haproxy.cfg: `{{listen}}`, `{{upstream.web1}}`,
// `{{host.backend}}`, `{{port.web1}}`. Each stands for one typed value of the plan (an address, a port, or both),
// written out only after it is checked as that type once more: the filled file runs as root, and a `;` or a
// line break in a value would be a directive of its own. Nothing but the user's own text and these values is
// ever written.
import { InvalidValueError } from '../core/errors.ts';
import { isIpv4 } from '../core/units.ts';
import { ownValue } from '../core/own-keys.ts';
import type { LinkContext } from './actor.ts';
import type { Upstream } from './proxy-engine.ts';

export type PlaceholderValue =
  | { readonly type: 'address'; readonly address: string }
  | { readonly type: 'port'; readonly port: number }
  | { readonly type: 'endpoint'; readonly address: string; readonly port: number };

/** `{{ name }}`: the name is letters, digits, dashes and one dot; anything else between braces is not a placeholder name. */
const PLACEHOLDER = /\{\{([^{}\n]*)\}\}/g;
/** The largest number of known names listed in one problem: a lab has a few hosts and actors, but a plan could have many. */
const LISTED_NAMES = 40;

const isPort = (p: unknown): p is number => typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= 65535;

/** The text a value becomes, after checking its type again; anything else is refused before a byte is written. */
export function placeholderText(name: string, value: PlaceholderValue): string {
  const bad = (what: string) => new InvalidValueError(`refusing to fill {{${name}}} with ${what}`);
  switch (value.type) {
    case 'address':
      if (!isIpv4(value.address)) throw bad(`${JSON.stringify(value.address)}, which is not an IPv4 address`);
      return value.address;
    case 'port':
      if (!isPort(value.port)) throw bad(`${JSON.stringify(value.port)}, which is not a port`);
      return String(value.port);
    case 'endpoint':
      if (!isIpv4(value.address) || !isPort(value.port))
        throw bad(`${JSON.stringify(`${value.address}:${value.port}`)}, which is not an address:port`);
      return `${value.address}:${value.port}`;
    default:
      throw bad('a value of no known type');
  }
}

/**
 * The placeholders a proxy's file may use, from the plan: its own `listen` (its host's address and its port),
 * each of its upstreams, every host's address and every actor's port.
 */
export function knownPlaceholders(
  ctx: LinkContext,
  port: number,
  upstreams: readonly Upstream[],
): Map<string, PlaceholderValue> {
  const known = new Map<string, PlaceholderValue>();
  const own = ownValue(ctx.hosts, ctx.self.host);
  if (own) known.set('listen', { type: 'endpoint', address: own.address, port });
  for (const u of upstreams) known.set(`upstream.${u.actor}`, { type: 'endpoint', address: u.address, port: u.port });
  for (const [name, host] of Object.entries(ctx.hosts))
    known.set(`host.${name}`, { type: 'address', address: host.address });
  for (const [name, actor] of Object.entries(ctx.actors)) {
    const actorPort = name === ctx.self.name ? port : actor.options['port'];
    if (typeof actorPort === 'number') known.set(`port.${name}`, { type: 'port', port: actorPort });
  }
  return known;
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function knownList(known: ReadonlyMap<string, PlaceholderValue>): string {
  const names = [...known.keys()].map((n) => `{{${n}}}`);
  return names.length > LISTED_NAMES
    ? `${names.slice(0, LISTED_NAMES).join(', ')} and ${names.length - LISTED_NAMES} more`
    : names.join(', ');
}

/**
 * The user's text with every placeholder replaced by its checked value, or the problems: each unknown
 * placeholder by name and line, with the known ones listed, and any `{{` left unclosed on its line.
 */
export function fillPlaceholders(
  text: string,
  known: ReadonlyMap<string, PlaceholderValue>,
): { text: string; used: string[] } | { problems: string[] } {
  const problems: string[] = [];
  const used = new Set<string>();
  const filled = text.replace(PLACEHOLDER, (whole, raw: string, at: number) => {
    const name = raw.trim();
    const value = known.get(name);
    if (!value) {
      problems.push(
        `line ${lineOf(text, at)}: unknown placeholder ${JSON.stringify(whole)} (known: ${knownList(known)})`,
      );
      return whole;
    }
    used.add(name);
    return placeholderText(name, value);
  });
  // What is left of `{{` after the replacement is one that never closed on its line: a typo, never passed on as text.
  const unclosed = /\{\{/.exec(text.replace(PLACEHOLDER, ''));
  if (unclosed)
    problems.push(
      `line ${lineOf(text.replace(PLACEHOLDER, ''), unclosed.index)}: "{{" starts a placeholder that does not close with "}}" on its line`,
    );
  return problems.length ? { problems } : { text: filled, used: [...used] };
}
