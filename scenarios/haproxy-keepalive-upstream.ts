// proxy-keepalive-upstream with HAProxy 2.6: `http-reuse always` and a per-server pool (pool-max-conn) carry every
// request on a few upstream connections. (`safe` gives the first request of each client connection a server
// connection of its own: with one request per client connection that is one upstream connection per request.)
import { keepAliveUpstreamScenario } from './proxy-keepalive-upstream.ts';

export default keepAliveUpstreamScenario(
  'haproxy-keepalive-upstream',
  'haproxy',
  'client -> HAProxy (http-reuse always) -> backend with pooled upstream connections: far fewer than requests, no exhaustion',
);
