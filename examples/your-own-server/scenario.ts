// Your own server behind nginx: `node server.js` (plain node:http, Node's 5 s keepAliveTimeout) run by the process
// actor on host backend, behind nginx with an upstream keep-alive pool that keeps idle connections 60 s, and POST
// rounds shaped so that pooled connections go idle right when it closes them (scenarios/keepalive-idle-race.ts says
// how). Node 20.20 closes an idle connection 1 s after keepAliveTimeout (a socket idle since its response got its
// FIN after 6,004 ms with the default 5,000), while its Keep-Alive header still says timeout=5: each round starts
// 5,990 ms after the last one's first answer.
//   sudo npx waitlab scenario examples/your-own-server/scenario.ts                                # 502s
//   sudo npx waitlab scenario examples/your-own-server/scenario.ts --set backendIdleTimeout=65s   # none
import { defineScenario, f } from 'waitlab';
import { applyFix, raceParams, raceSpec } from '../../scenarios/keepalive-idle-race.ts';

export default defineScenario({
  name: 'your-own-server',
  description:
    'your node server (server.js, keepAliveTimeout 5 s) behind an nginx pool kept 60 s: POSTs meet its idle closes, 502; 65 s cures it',
  params: {
    ...raceParams(),
    think: f.duration({
      default: '5990ms',
      describe:
        "from a round's first answer to the next round: 10 ms short of when Node closes an idle connection (keepAliveTimeout + 1 s)",
    }),
  },
  build: (p) =>
    raceSpec(
      p,
      {
        kind: 'process',
        host: 'backend',
        command: ['node', 'server.js'],
        env: { PORT: 8080, KEEP_ALIVE_TIMEOUT_MS: applyFix(p).backendIdleMs },
        port: 8080,
        ready: { log: 'listening on' },
      },
      { serverIdleCloses: false },
    ),
});
