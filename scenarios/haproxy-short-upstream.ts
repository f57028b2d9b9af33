// proxy-short-upstream with HAProxy 2.6 (`option http-server-close`, `http-reuse never`): one upstream connection
// per request, but HAProxy never closes a server connection with a FIN of its own. It waits for the server's close
// and, when it must close first (here the backend waits for the proxy's FIN), resets it: the kernel shows
// Tcp.OutRsts on the proxy host, no TIME_WAIT on either side and no port exhaustion. `--set mode=tcp` makes HAProxy
// mirror the client's FIN to the upstream instead: then its host fills with TIME_WAIT and it logs "no free ports".
import { shortUpstreamScenario } from './proxy-short-upstream.ts';

export default shortUpstreamScenario(
  'haproxy-short-upstream',
  'haproxy',
  'client -> HAProxy (http-server-close) -> backend: one upstream connection per request, closed by RST, so no TIME_WAIT and no exhaustion; --set mode=tcp exhausts',
);
