// The nginx proxy engine: nginx run by nginx-process.ts with an upstream block toward the proxy's upstreams.
import { assertConfigSafe, type ProxyEngineFactory, type ProxySettings } from './proxy-engine.ts';
import { nginxMainConfig, nginxProcess, type NginxVersion } from './nginx-process.ts';

export { nginxVersion, parseNginxErrorLine, type NginxVersion } from './nginx-process.ts';

export interface NginxConfigInput {
  settings: ProxySettings;
  dir: string;
  version: NginxVersion;
  rootless: boolean;
}

export function nginxConfig({ settings: s, dir, version, rootless }: NginxConfigInput): string {
  assertConfigSafe(s);
  const keepAlive = s.keepAlive > 0;
  const upstreamPool = keepAlive
    ? [`keepalive ${s.keepAlive};`]
    : // Before 1.29.7 leaving `keepalive` out is "off"; from 1.29.7 the pool is on unless `keepalive 0;`, which
      // older versions reject. HTTP/1.0 with Connection: close (below) is "off" for both.
      version.keepAliveByDefault ? ['keepalive 0;'] : [];
  const upstreamRequest = keepAlive
    ? ['proxy_http_version 1.1;', 'proxy_set_header Connection "";']
    : ['proxy_http_version 1.0;', 'proxy_set_header Connection close;'];
  return nginxMainConfig({
    title: `proxy actor ${s.name} (nginx ${version.text}${rootless ? ', rootless' : ''})`,
    dir,
    rootless,
    workers: s.workers,
    http: [
      'upstream waitlab_upstreams {',
      ...s.upstreams.map((u) => `  server ${u.address}:${u.port};`),
      ...upstreamPool.map((l) => `  ${l}`),
      '}',
      'server {',
      `  listen 0.0.0.0:${s.port} backlog=4096;`,
      '  location / {',
      '    proxy_pass http://waitlab_upstreams;',
      ...upstreamRequest.map((l) => `    ${l}`),
      `    proxy_connect_timeout ${Math.max(1, Math.ceil(s.connectTimeoutMs / 1000))}s;`,
      // nginx sets IP_BIND_ADDRESS_NO_PORT on a proxy_bind without a port: the port is still picked at connect().
      ...(s.bind ? [`    proxy_bind ${s.bind};`] : []),
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
      config: (dir, version, rootless) => nginxConfig({ settings, dir, version, rootless }),
    },
    ctx,
    errors,
  );
