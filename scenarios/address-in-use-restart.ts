// A listener restarted while its port still has connections in TIME_WAIT (it closed them first): the new
// socket's bind() fails with EADDRINUSE unless both the old listening socket (whose connections hold the
// port; they inherit its SO_REUSEADDR) and the new one set SO_REUSEADDR. Node's servers always set it
// (libuv), so the listener here is a bare python3 helper; all four combinations run side by side.
import { defineScenario, f } from 'waitlab';

const COMBINATIONS = [
  { name: 'off-off', port: 8080, reuseAddr: false, restartReuseAddr: false },
  { name: 'off-on', port: 8081, reuseAddr: false, restartReuseAddr: true },
  { name: 'on-off', port: 8082, reuseAddr: true, restartReuseAddr: false },
  { name: 'on-on', port: 8083, reuseAddr: true, restartReuseAddr: true },
] as const;

export default defineScenario({
  name: 'address-in-use-restart',
  description:
    'restart a listener whose port holds TIME_WAIT: EADDRINUSE from bind() unless old and new socket both set SO_REUSEADDR',
  params: {
    connections: f.int({
      default: 50,
      min: 1,
      max: 5000,
      describe: 'connections each listener serves (and closes first) before it restarts',
    }),
    tries: f.int({ default: 5, min: 1, max: 50, describe: 'bind()/listen() attempts of each restart, 100 ms apart' }),
  },
  build: (p) => ({
    hosts: { client: {}, server: {} },
    actors: Object.fromEntries(
      COMBINATIONS.flatMap((c) => [
        [
          c.name,
          {
            kind: 'listener',
            host: 'server',
            port: c.port,
            reuseAddr: c.reuseAddr,
            restartReuseAddr: c.restartReuseAddr,
            restartAfterAccepts: p.connections,
            restartTries: p.tries,
          },
        ],
        // The server closes first (the listener answers, then closes): TIME_WAIT lands on its port.
        [
          `to-${c.name}`,
          {
            kind: 'short-conn-client',
            host: 'client',
            target: c.name,
            rate: '200/s',
            count: p.connections,
            duration: '5s',
            closer: 'server',
          },
        ],
      ]),
    ),
    // Room for the last restart's tries after the floods end.
    tail: `${p.tries * 100 + 700}ms`,
    thresholds: COMBINATIONS.flatMap((c) =>
      c.reuseAddr && c.restartReuseAddr
        ? [`actors.${c.name}.listens == 2`, `actors.${c.name}.restart.portStates.TIME_WAIT > 0`]
        : [
            `actors.${c.name}.listens == 1`,
            `actors.${c.name}.errors.EADDRINUSE.count == ${p.tries}`,
            `actors.${c.name}.restart.portStates.TIME_WAIT > 0`,
          ],
    ),
  }),
});
