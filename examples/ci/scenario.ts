// A scenario of your own for CI, with the baseline beside it (baselines/port-budget-ci/, recorded by
// `waitlab baseline`): a client that opens one connection per request and closes first, 800 requests against a
// 500-port ip_local_port_range. The kernel fixes the outcome: 500 connections, each port then held 60 s in
// TIME_WAIT (tcp_tw_reuse=0), and 300 connect() failures with EADDRNOTAVAIL. A change that brings keep-alive back,
// or lets the server close first, moves those counts, and the comparison fails the job (exit 5).
//   npx waitlab scenario examples/ci/scenario.ts --baseline examples/ci/baselines/port-budget-ci
import { defineScenario, f } from 'waitlab';

export default defineScenario({
  name: 'port-budget-ci',
  description:
    "800 short connections against a 500-port range: 500 in TIME_WAIT, 300 EADDRNOTAVAIL, whatever the runner's speed",
  params: { requests: f.int({ default: 800, min: 1, max: 5000 }), ports: f.portRange({ default: '40000-40499' }) },
  build: (p) => ({
    hosts: {
      client: {
        sysctls: { 'net.ipv4.ip_local_port_range': `${p.ports.lo} ${p.ports.hi}`, 'net.ipv4.tcp_tw_reuse': 0 },
      },
      server: {},
    },
    actors: {
      web: { kind: 'http-server', host: 'server', port: 8080, keepAlive: false, closer: 'client' },
      // The closed model: four connections at a time until all requests are made, so nothing depends on a rate
      // the runner may not keep (an open model counts late starts as missed).
      flood: {
        kind: 'short-conn-client',
        host: 'client',
        target: 'web',
        model: 'closed',
        concurrency: 4,
        count: p.requests,
        duration: '20s',
      },
    },
    thresholds: ['actors.flood.errors.EADDRNOTAVAIL.count > 0', 'hosts.server.peak.total.TIME_WAIT == 0'],
    // The counts the kernel fixes are held tight; speed depends on the runner, so rate and latency are kept in
    // the baseline but allowed to move.
    regressions: {
      'actors.flood.ok': '±1%',
      'actors.flood.errors.EADDRNOTAVAIL.count': '±1%',
      'hosts.client.peak.total.TIME_WAIT': '±1%',
      'hosts.client.counters.delta.TcpExt.TW': '±1%',
      'actors.flood.achievedRate': '-95%',
      'actors.flood.latencyMs.p99': '+5000%',
    },
  }),
});
