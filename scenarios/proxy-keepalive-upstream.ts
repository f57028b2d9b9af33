// The same client load and the same narrow port range on the proxy host as proxy-short-upstream, with upstream
// keep-alive on (nginx `keepalive 16`, HTTP/1.1, `Connection: ""`): a handful of upstream connections carry every
// request, the proxy host holds next to no TIME_WAIT, nothing runs out and the client gets no 502.
import { defineScenario } from 'waitlab';
import { proxyParams, proxyTopology, type Engine } from './proxy-short-upstream.ts';

export function keepAliveUpstreamScenario(name: string, engine: Engine, description: string) {
  return defineScenario({
    name,
    description,
    params: proxyParams({ engine, keepAlive: 16 }),
    build: (p) => {
      const t = proxyTopology(p);
      return {
        ...t.spec,
        thresholds: [
          'actors.proxy.errorLog.causes.portsExhausted == 0',
          'actors.flood.errorCount == 0',
          `actors.flood.statuses.200 >= ${Math.floor(t.requests * 0.95)}`,
          // Far fewer upstream connections than requests: at most one in twenty.
          `actors.proxy.hostActiveOpens <= ${Math.floor(t.requests / 20)}`,
          `hosts.proxy.peak.ephemeral.TIME_WAIT <= ${Math.floor(t.requests / 20)}`,
        ],
        // Against a baseline: how many upstream connections the pool needs follows how many requests overlap,
        // which a loaded machine changes (nginx closes those past its `keepalive` idle limit, and they leave
        // TIME_WAIT on the proxy): a few tens either way is noise; a lost pool is one per request (thousands).
        regressions: {
          'hosts.proxy.counters.delta.Tcp.ActiveOpens': `+${Math.floor(t.requests / 20)}`,
          'hosts.proxy.counters.delta.TcpExt.TW': `+${Math.floor(t.requests / 20)}`,
          'hosts.proxy.peak.total.TIME_WAIT': `+${Math.floor(t.requests / 20)}`,
          'hosts.proxy.peak.sockstatTw': `+${Math.floor(t.requests / 20)}`,
          'hosts.*.peak.total.CLOSE_WAIT': `+${Math.floor(t.requests / 20)}`,
          'actors.flood.latencyMs.p99': '+400%',
        },
      };
    },
  });
}

export default keepAliveUpstreamScenario(
  'proxy-keepalive-upstream',
  'nginx',
  'client -> nginx -> backend with an upstream keep-alive pool: upstream connections far fewer than requests, no port exhaustion, no 502',
);
