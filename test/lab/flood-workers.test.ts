// A flood on two worker threads is still one load with one tally, on either engine: the short-conn exhaustion (500 ports, 250
// connections/s) made by two event loops ends at the same port budget, and every figure of the merged stats
// agrees with what the kernels counted.
import { beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/controller/run-scenario.ts';
import { defineScenario } from '../../src/core/scenario.ts';
import { resolvePlan } from '../../src/plan/load-plan.ts';
import { type TestReport, tempDir } from '../helpers/lab.ts';
import { expectPortsRanOut } from '../helpers/port-exhaustion.ts';

const BUDGET = 500;
const COUNT = 875; // 3.5 s at 250/s

describe.each(['node', 'native'])('short-conn-client with workers 2, engine %s', (engine) => {
  let report: TestReport;
  beforeAll(async () => {
    const scenario = defineScenario({
      name: 'flood-workers',
      description: 'port exhaustion from two worker threads',
      params: {},
      build: () => ({
        hosts: {
          client: {
            sysctls: {
              'net.ipv4.ip_local_port_range': '40000 40499',
              'net.ipv4.tcp_tw_reuse': 0,
              'net.ipv4.tcp_rfc1337': 1,
            },
          },
          server: {},
        },
        actors: {
          web: { kind: 'http-server', host: 'server', port: 8080, keepAlive: false, closer: 'client' },
          flood: {
            kind: 'short-conn-client',
            host: 'client',
            target: 'web',
            rate: '250/s',
            duration: '10s',
            count: COUNT,
            workers: 2,
            engine,
          },
        },
      }),
    });
    ({ report } = (await runScenario(resolvePlan(scenario, 'test', {}), { outDir: tempDir() })) as {
      report: TestReport;
    });
  });

  it('makes every scheduled start once across both workers, and as many connections as the server accepted', () => {
    const flood = report.actors.flood!;
    expect(flood['workers']).toBe(2);
    expect(flood['attempts'] + flood['missedStarts']).toBe(COUNT);
    expect(flood['connected']).toBe(report.hosts.server!.counters.delta['Tcp.PassiveOpens']);
    expect(flood['latencyMs'].count).toBe(flood['responses']);
  });

  it('runs out of the one port budget: 500 connections, then EADDRNOTAVAIL from connect() in either worker', () => {
    const flood = report.actors.flood!;
    // connectedBeforeFirstError is counted in memory the workers share: what both had made when the first failed.
    expectPortsRanOut(flood, BUDGET);
    expect(flood['errorCount']).toBe(flood['attempts'] - BUDGET);
    expect(report.hosts.client!.peak.sockstatTw).toBe(BUDGET);
  });
});
