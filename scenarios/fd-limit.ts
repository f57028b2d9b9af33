// A server process with a low open-files limit (RLIMIT_NOFILE): every accepted connection is a file
// descriptor, so once the limit is reached accept() fails with EMFILE ("Too many open files") while the
// kernel keeps completing handshakes into the accept queue, and no port anywhere is short. The limit is
// the host's (its agent runs under prlimit) and the listener's helper process inherits it. On the other
// side, a client host under the same kind of limit holding its connections open fails in socket() before
// connect() with EMFILE, while its port range is nearly untouched.
import { defineScenario, f } from 'waitlab';

export default defineScenario({
  name: 'fd-limit',
  description: 'a server under a low open-files limit: accept() fails with EMFILE, told apart from port exhaustion',
  params: {
    nofile: f.int({ default: 128, min: 64, describe: 'RLIMIT_NOFILE (soft and hard) of host server' }),
    rate: f.rate({ default: '200/s', describe: 'new connections per second' }),
    duration: f.duration({ default: '1500ms', describe: 'how long the flood runs' }),
    hold: f.duration({
      default: '1s',
      describe: 'how long the server keeps each connection: open at once ~ rate x hold',
    }),
    backlog: f.int({ default: 511, min: 1, describe: 'listen() backlog of the server' }),
    clientNofile: f.int({
      default: 96,
      min: 64,
      describe: 'RLIMIT_NOFILE of host lclient, whose flood holds its connections',
    }),
  },
  build: (p) => ({
    hosts: {
      client: {},
      server: { limits: { nofile: p.nofile } },
      lclient: { limits: { nofile: p.clientNofile } },
      server2: {},
    },
    actors: {
      web: { kind: 'listener', host: 'server', port: 8080, reuseAddr: true, hold: p.hold, backlog: p.backlog },
      // The server answers and closes first: the client waits for its FIN.
      flood: {
        kind: 'short-conn-client',
        host: 'client',
        target: 'web',
        rate: p.rate,
        duration: p.duration,
        closer: 'server',
        idleTimeout: '8s',
      },
      // The client side: connections held until the server closes them after `hold`, more at once than lclient may open.
      web2: { kind: 'listener', host: 'server2', port: 8080, reuseAddr: true, hold: p.hold, backlog: p.backlog },
      lflood: {
        kind: 'short-conn-client',
        host: 'lclient',
        target: 'web2',
        rate: p.rate,
        duration: p.duration,
        closer: 'server',
        idleTimeout: '8s',
      },
    },
    thresholds: [
      'actors.web.errors.EMFILE.count > 0',
      // The limit as the helper process read it back from the kernel (getrlimit), not as planned.
      `actors.web.limits.nofile.soft == ${p.nofile}`,
      `actors.web.maxOpen < ${p.nofile}`,
      // Every connection was still served once descriptors freed up: slow, not refused, and no port ran out.
      'actors.flood.errorCount == 0',
      // (A start the flood itself missed on a busy machine is counted in its missedStarts, never made.)
      'actors.flood.inFlight == 0',
      `hosts.server.counters.delta.Tcp.PassiveOpens <= ${Math.round((p.rate * p.duration) / 1000)}`,
      // A limited client: EMFILE at connect time, with its connections never exceeding its limit.
      'actors.lflood.errors.EMFILE.count > 0',
      `hosts.lclient.peak.ephemeral.ESTABLISHED < ${p.clientNofile}`,
    ],
  }),
});
