// Your own server in the lab: `node server.mjs` run by the process actor on host server, flooded with short
// connections that the client closes first. The server never closes after the client's FIN, so every connection
// stays in CLOSE_WAIT on its side; the finding names the process and its pid.
//   sudo npx waitlab scenario examples/process-close-wait/scenario.ts
import { defineScenario, f } from 'waitlab';

export default defineScenario({
  name: 'process-close-wait',
  description: "your own node server (server.mjs) never closes after the client's FIN: CLOSE_WAIT held by its pid",
  params: { rate: f.rate({ default: '100/s' }), duration: f.duration({ default: '3s' }) },
  build: (p) => ({
    hosts: { client: {}, server: {} },
    actors: {
      api: {
        kind: 'process',
        host: 'server',
        command: ['node', 'server.mjs'],
        env: { PORT: 8080 },
        port: 8080,
        ready: { log: 'listening on' },
      },
      flood: {
        kind: 'short-conn-client',
        host: 'client',
        target: 'api',
        rate: p.rate,
        duration: p.duration,
        closeStyle: 'close',
      },
    },
    thresholds: ['hosts.server.final.CLOSE_WAIT > 0'],
  }),
});
