// Your own nginx.conf in the lab: the proxy actor runs nginx.conf (beside this file) instead of a generated
// configuration, with {{listen}} and {{upstream.web}} filled in from the plan, checked with nginx -t before any
// lab is built. One new client connection per request through nginx, which keeps a small pool toward the backend.
//   sudo npx waitlab scenario examples/own-nginx-config/scenario.ts
import { defineScenario, f } from 'waitlab';

export default defineScenario({
  name: 'own-nginx-config',
  description:
    'your own nginx.conf (placeholders filled from the plan) between a flood and a backend: a pooled upstream',
  params: { rate: f.rate({ default: '200/s' }), duration: f.duration({ default: '3s' }) },
  build: (p) => ({
    hosts: { client: {}, proxy: {}, backend: {} },
    actors: {
      web: { kind: 'http-server', host: 'backend', port: 8080 },
      proxy: { kind: 'proxy', host: 'proxy', engine: 'nginx', port: 80, upstreams: 'web', config: './nginx.conf' },
      flood: { kind: 'short-conn-client', host: 'client', target: 'proxy', rate: p.rate, duration: p.duration },
    },
    thresholds: ['actors.flood.errorCount == 0'],
  }),
});
