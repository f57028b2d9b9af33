// The nginx proxy engine: nginx run by nginx-process.ts with an upstream block toward the proxy's upstreams.
import { nginxListen } from './listen-address.ts';
import { endpointText } from '../core/ipv6.ts';
import { assertConfigSafe, type ProxyEngineFactory, type ProxySettings, type RETRY_SETS } from './proxy-engine.ts';
import { nginxMainConfig, nginxProcess, type NginxVersion } from './nginx-process.ts';
import { nginxUserGlobals } from './nginx-user-globals.ts';

export { nginxVersion, parseNginxErrorLine, type NginxVersion } from './nginx-process.ts';

export interface NginxConfigInput {
  settings: ProxySettings;
  dir: string;
  version: NginxVersion;
  rootless: boolean;
}

/** proxy_next_upstream's words for each retry set; nginx's own default is `error timeout`. */
const NEXT_UPSTREAM: Record<(typeof RETRY_SETS)[number], string> = {
  off: 'off',
  'error-timeout': 'error timeout',
  'error-timeout-non-idempotent': 'error timeout non_idempotent',
  'error-timeout-http-502-503-504': 'error timeout http_502 http_503 http_504',
};

/** Whole seconds for nginx (plan time keeps upstreamIdleTimeout at 1 s or more); ms where it is not whole. */
const nginxTime = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

export function nginxConfig({ settings: s, dir, version, rootless }: NginxConfigInput): string {
  assertConfigSafe(s);
  const keepAlive = s.keepAlive > 0;
  const upstreamPool = keepAlive
    ? [
        `keepalive ${s.keepAlive};`,
        // Both directives of the upstream block exist from nginx 1.15.3 (Debian 12 has 1.22.1).
        ...(s.upstreamIdleTimeoutMs !== undefined ? [`keepalive_timeout ${nginxTime(s.upstreamIdleTimeoutMs)};`] : []),
        ...(s.upstreamKeepAliveRequests !== undefined ? [`keepalive_requests ${s.upstreamKeepAliveRequests};`] : []),
      ]
    : // Before 1.29.7 leaving `keepalive` out is "off"; from 1.29.7 the pool is on unless `keepalive 0;`, which
      // older versions reject. HTTP/1.0 with Connection: close (below) is "off" for both.
      version.keepAliveByDefault
      ? ['keepalive 0;']
      : [];
  const upstreamRequest = keepAlive
    ? ['proxy_http_version 1.1;', 'proxy_set_header Connection "";']
    : ['proxy_http_version 1.0;', 'proxy_set_header Connection close;'];
  return nginxMainConfig({
    title: `proxy actor ${s.name} (nginx ${version.text}${rootless ? ', rootless' : ''})`,
    dir,
    rootless,
    workers: s.workers,
    workerConnections: s.workerConnections,
    http: [
      'upstream waitlab_upstreams {',
      ...s.upstreams.map((u) => `  server ${endpointText(u.address, u.port)};`),
      ...upstreamPool.map((l) => `  ${l}`),
      '}',
      'server {',
      `  listen ${nginxListen(s.listenHost, s.port)} backlog=4096;`,
      '  location / {',
      '    proxy_pass http://waitlab_upstreams;',
      ...upstreamRequest.map((l) => `    ${l}`),
      `    proxy_connect_timeout ${Math.max(1, Math.ceil(s.connectTimeoutMs / 1000))}s;`,
      // nginx sets IP_BIND_ADDRESS_NO_PORT on a proxy_bind without a port: the port is still picked at connect().
      ...(s.bind ? [`    proxy_bind ${s.bind};`] : []),
      ...(s.retries !== undefined ? [`    proxy_next_upstream ${NEXT_UPSTREAM[s.retries]};`] : []),
      '  }',
      '}',
    ],
  });
}

export const nginxEngine: ProxyEngineFactory = (settings, ctx, errors) =>
  nginxProcess(
    {
      name: settings.name,
      binary: settings.binary!,
      port: settings.port,
      workers: settings.workers,
      config: (dir, version, rootless) =>
        settings.userConfig?.text ?? nginxConfig({ settings, dir, version, rootless }),
      ...(settings.userConfig ? { globals: nginxUserGlobals } : {}),
    },
    ctx,
    errors,
  );
