// Proxy settings as the proxy actor hands them to an engine, for tests of the generated configurations.
import type { ProxySettings } from '../../src/actors/proxy-engine.ts';

export const proxySettings = (over: Partial<ProxySettings> = {}): ProxySettings => ({
  name: 'proxy',
  port: 18080,
  upstreams: [
    { actor: 'web1', host: 'backend1', address: '198.18.0.3', port: 8080 },
    { actor: 'web2', host: 'backend2', address: '198.18.0.4', port: 8080 },
  ],
  keepAlive: 0,
  bind: undefined,
  sourcePorts: undefined,
  hostAddress: '198.18.0.2',
  listenHost: '0.0.0.0',
  workers: 1,
  mode: 'http',
  connectTimeoutMs: 5000,
  binary: undefined,
  ...over,
});
