// The server closes after every response (Apache's KeepAlive Off, `Connection: close`): TIME_WAIT sits
// on the server, the client's ports are free as soon as each connection ends, and the client's next SYN
// on the same 4-tuple takes over the server's TIME_WAIT entry (RFC 6191, with timestamps), so the
// server's TIME_WAIT stops growing at one entry per client port.
import { defineScenario, f, sameParityPorts } from 'waitlab';

export default defineScenario({
  name: 'server-close',
  description:
    "the server closes after each response: TIME_WAIT moves to the server, one per client 4-tuple, as the client's new SYNs take old entries over",
  params: {
    rate: f.rate({ default: '200/s', describe: 'new connections per second' }),
    duration: f.duration({ default: '5s', describe: 'how long the flood runs' }),
    ports: f.portRange({
      default: '40000-40199',
      describe: "the client host's ip_local_port_range: far fewer ports than connections",
    }),
  },
  build: (p) => {
    const conns = Math.round((p.rate * p.duration) / 1000);
    const ports = p.ports.hi - p.ports.lo + 1;
    return {
      hosts: {
        client: {
          sysctls: { 'net.ipv4.ip_local_port_range': `${p.ports.lo} ${p.ports.hi}`, 'net.ipv4.tcp_tw_reuse': 0 },
        },
        // RFC 6191 reuse of a TIME_WAIT entry by a new SYN relies on timestamps: on by default, said here.
        server: { sysctls: { 'net.ipv4.tcp_timestamps': 1 } },
      },
      actors: {
        web: { kind: 'http-server', host: 'server', port: 8080, keepAlive: false, closer: 'server' },
        flood: {
          kind: 'short-conn-client',
          host: 'client',
          target: 'web',
          rate: p.rate,
          duration: p.duration,
          closer: 'server',
        },
      },
      thresholds: [
        `actors.flood.ok >= ${Math.floor(conns * 0.95)}`,
        'actors.flood.errorCount == 0',
        'hosts.client.peak.total.TIME_WAIT == 0',
        // Never more than one TIME_WAIT per client port: each new SYN on a port took over the old entry.
        `hosts.server.peak.listen.TIME_WAIT <= ${ports}`,
        `hosts.server.peak.listen.TIME_WAIT >= ${Math.floor(Math.min(sameParityPorts(`${p.ports.lo}-${p.ports.hi}`), conns) * 0.9)}`,
        'predictions.flood.timeWait.ratio >= 0.9',
        'predictions.flood.timeWait.ratio <= 1.1',
      ],
    };
  },
});
