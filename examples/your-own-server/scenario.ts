// Your own server behind nginx: `node server.js` (plain node:http, Node's 5 s keepAliveTimeout) run by the process
// actor on host backend, behind nginx with an upstream keep-alive pool that keeps idle connections 60 s, and POST
// bursts shaped so that pooled connections go idle right at 5 s (scenarios/keepalive-idle-race.ts says how).
//   sudo node bin/waitlab.js scenario examples/your-own-server/scenario.ts                                # 502s
//   sudo node bin/waitlab.js scenario examples/your-own-server/scenario.ts --set backendIdleTimeout=65s   # none
import { defineScenario } from 'waitlab';
import { applyFix, raceParams, raceSpec } from '../../scenarios/keepalive-idle-race.ts';

export default defineScenario({
  name: 'your-own-server',
  description: 'your node server (server.js, keepAliveTimeout 5 s) behind an nginx pool kept 60 s: POSTs meet its idle closes, 502; 65 s cures it',
  params: raceParams(),
  build: (p) =>
    raceSpec(
      p,
      { kind: 'process', host: 'backend', command: ['node', 'server.js'], env: { PORT: 8080, KEEP_ALIVE_TIMEOUT_MS: applyFix(p).backendIdleMs }, port: 8080, ready: { log: 'listening on' } },
      { serverIdleCloses: false },
    ),
});
