// A server that accepts slower than connections arrive. The kernel completes handshakes by itself into the
// listener's accept queue (at most min(backlog, net.core.somaxconn) + 1 entries); once it is full, a final
// ACK is dropped (the connection stays SYN_RECV and its SYN-ACK is resent) and new SYNs are dropped:
// TcpExt ListenOverflows and ListenDrops count both. The client thinks it is connected (or retransmits its
// SYN) and just waits. With net.ipv4.tcp_abort_on_overflow=1 the server answers an overflowing ACK with
// an RST instead, and the client gets ECONNRESET.
import { defineScenario, f } from 'waitlab';

export default defineScenario({
  name: 'listen-backlog',
  description:
    'accept() paused: the accept queue fills (min(backlog, somaxconn) + 1), ListenOverflows/ListenDrops, SYN_RECV; the client waits, or gets RSTs with tcp_abort_on_overflow=1',
  params: {
    backlog: f.int({ default: 64, min: 0, describe: 'listen() backlog of both listeners' }),
    somaxconn: f.int({ default: 8, min: 1, describe: 'net.core.somaxconn of both server hosts: the cap on backlog' }),
    pause: f.duration({ default: '1500ms', describe: 'how long the listeners accept nothing' }),
    rate: f.rate({ default: '100/s', describe: 'new connections per second toward each server' }),
    duration: f.duration({ default: '1s', describe: 'how long each flood runs' }),
  },
  build: (p) => {
    const listener = { kind: 'listener', port: 8080, backlog: p.backlog, acceptAfter: p.pause } as const;
    const flood = {
      kind: 'short-conn-client',
      host: 'client',
      rate: p.rate,
      duration: p.duration,
      closer: 'server',
      idleTimeout: '6s',
    } as const;
    return {
      hosts: {
        client: {},
        server: { sysctls: { 'net.core.somaxconn': p.somaxconn } },
        strict: { sysctls: { 'net.core.somaxconn': p.somaxconn, 'net.ipv4.tcp_abort_on_overflow': 1 } },
      },
      actors: {
        web: { ...listener, host: 'server' },
        webstrict: { ...listener, host: 'strict' },
        flood: { ...flood, target: 'web' },
        'flood-strict': { ...flood, target: 'webstrict' },
      },
      thresholds: [
        // The queue's depth as /proc/net/tcp showed it when the pause ended: somaxconn caps the backlog.
        `actors.web.queuedAtResume <= ${Math.min(p.backlog, p.somaxconn) + 1}`,
        `actors.web.queuedAtResume >= ${Math.min(p.backlog, p.somaxconn)}`,
        // Clients beyond the queue waited in SYN_SENT, retransmitting: every one was served in the end (a
        // start the flood itself missed on a busy machine is counted in missedStarts, not here).
        `hosts.client.peak.total.SYN_SENT > ${Math.min(p.backlog, p.somaxconn) + 1}`,
        'actors.flood.errorCount == 0',
        'actors.flood.inFlight == 0',
        'hosts.server.counters.delta.TcpExt.ListenOverflows > 0',
        'hosts.strict.counters.delta.TcpExt.ListenOverflows > 0',
        'hosts.client.counters.delta.TcpExt.TCPSynRetrans > 0',
        'actors.flood-strict.errorCount == 0',
        'actors.flood-strict.inFlight == 0',
      ],
    };
  },
});
