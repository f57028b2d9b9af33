// proxy-keepalive-upstream with HAProxy 2.6: `http-reuse safe` and a per-server pool (pool-max-conn) carry every
// request on a few upstream connections.
import { keepAliveUpstreamScenario } from './proxy-keepalive-upstream.ts';

export default keepAliveUpstreamScenario(
  'haproxy-keepalive-upstream',
  'haproxy',
  'client -> HAProxy (http-reuse safe) -> backend with pooled upstream connections: far fewer than requests, no exhaustion',
);
