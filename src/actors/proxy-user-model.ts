// How a proxy run with the user's own file keeps its upstream connections, as far as the file says it plainly:
// the connection model (core/connection-model.ts) must claim only what the configuration makes so. Where the
// file leaves it open (HAProxy pooling with no `pool-max-conn`, a mode that differs by section), nothing is
// claimed and the proxy's upstream connections are read from the kernel alone.
import type { CloseStyle, PerRequest } from '../core/connection-model.ts';
import { nginxDirectives } from './nginx-conf-directives.ts';

export interface UpstreamUse {
  readonly perRequest: PerRequest;
  /** How the proxy ends an upstream connection. */
  readonly closeStyle: CloseStyle;
}

const count = (word: string | undefined) => (word !== undefined && /^\d{1,7}$/.test(word) ? Number(word) : undefined);

/**
 * nginx: a pool only where an upstream block says `keepalive N` and requests go out as HTTP/1.1
 * (`proxy_http_version 1.1`, or 1.29.7+ where both are the default); otherwise one connection per request,
 * which nginx closes itself once the response is in.
 */
export function nginxUpstreamUse(text: string, keepAliveByDefault: boolean): UpstreamUse {
  const directives = nginxDirectives(text);
  const inUpstream = directives.filter((d) => d.blocks.at(-1) === 'upstream' && d.name === 'keepalive');
  const pools = inUpstream.map((d) => count(d.args[0]) ?? 0);
  const http11 = keepAliveByDefault || directives.some((d) => d.name === 'proxy_http_version' && d.args[0] === '1.1');
  const pool = pools.length ? Math.max(...pools) : keepAliveByDefault ? 32 : 0;
  return {
    perRequest: pool > 0 && http11 ? { pooled: true, connections: pool } : { pooled: false },
    closeStyle: 'graceful',
  };
}

/** The words of a haproxy.cfg line, its comment cut. */
const wordsOf = (line: string) =>
  line
    .replace(/(^|\s)#.*$/, '')
    .trim()
    .split(/\s+/)
    .filter(Boolean);

/**
 * HAProxy: `mode tcp` (its default) mirrors each side's FIN; `mode http` keeps server connections for reuse unless
 * `option http-server-close`, `option httpclose` or `http-reuse never`, and closes them by RST. A pool's size is
 * known only from `pool-max-conn N` on server lines; undefined where the file does not say it plainly.
 */
export function haproxyUpstreamUse(text: string): UpstreamUse | undefined {
  const lines = text
    .split('\n')
    .map(wordsOf)
    .filter((w) => w.length > 0);
  const modes = new Set(lines.filter((w) => w[0] === 'mode').map((w) => w[1]));
  if (modes.size > 1) return undefined;
  if (!modes.has('http')) return { perRequest: { pooled: false }, closeStyle: 'graceful' };
  const noReuse = lines.some(
    (w) =>
      (w[0] === 'option' && (w[1] === 'http-server-close' || w[1] === 'httpclose')) ||
      (w[0] === 'http-reuse' && w[1] === 'never'),
  );
  if (noReuse) return { perRequest: { pooled: false }, closeStyle: 'rst' };
  const pools = lines.filter((w) => w[0] === 'server').map((w) => count(w[w.indexOf('pool-max-conn') + 1]) ?? 0);
  const pool = Math.max(0, ...pools);
  return pool > 0 && pools.every((p) => p > 0)
    ? { perRequest: { pooled: true, connections: pool }, closeStyle: 'rst' }
    : undefined;
}
