// nginx's upstream keep-alive idle timeout (`keepalive_timeout` in the upstream block), seen from the kernel:
// requests 2 s apart through a pool whose idle connections live 1 s each need a new upstream connection, where
// nginx's default 60 s carries them all on one. Every count is the kernel's (Tcp.ActiveOpens of the proxy host).
import { beforeAll, expect, it } from 'vitest';
import { defineScenario } from '../../src/core/scenario.ts';
import { resolvePlan } from '../../src/plan/load-plan.ts';
import { runScenario } from '../../src/controller/run-scenario.ts';
import { type TestReport, tempDir } from '../helpers/lab.ts';
import { describeWithTools } from '../helpers/tools.ts';

const REQUESTS = 4;

async function run(idle: { upstreamIdleTimeout?: string }): Promise<TestReport> {
  const definition = defineScenario({
    name: 'proxy-upstream-idle',
    description: 'client -> nginx (upstream pool) -> backend, one request every 2 s',
    params: {},
    build: () => ({
      hosts: { client: {}, proxy: {}, backend: {} },
      actors: {
        // The backend keeps idle connections far longer than either proxy setting: only nginx closes them.
        web1: { kind: 'http-server', host: 'backend', port: 8080, keepAlive: true, keepAliveTimeout: '60s' },
        proxy: { kind: 'proxy', host: 'proxy', engine: 'nginx', port: 80, upstreams: 'web1', keepAlive: 4, ...idle },
        flood: {
          kind: 'short-conn-client',
          host: 'client',
          target: 'proxy',
          model: 'open',
          rate: '30/m',
          count: REQUESTS,
          duration: '7s',
          closer: 'client',
        },
      },
    }),
  });
  const { report } = await runScenario(resolvePlan(definition, 'proxy-upstream-idle.ts', {}), { outDir: tempDir() });
  return report as TestReport;
}

describeWithTools(['nginx'], 'nginx upstream keep-alive idle timeout', () => {
  let short: TestReport;
  let standard: TestReport;
  beforeAll(async () => {
    short = await run({ upstreamIdleTimeout: '1s' });
    standard = await run({});
  }, 120_000);

  it('opens a new upstream connection for every request 2 s apart with upstreamIdleTimeout 1s, and one with the default 60 s', () => {
    for (const r of [short, standard]) {
      expect(r.actors.flood!['statuses']).toEqual({ 200: REQUESTS });
      expect(r.hosts.backend!.counters.delta['Tcp.PassiveOpens']).toBe(
        r.hosts.proxy!.counters.delta['Tcp.ActiveOpens'],
      );
    }
    expect(short.actors.proxy!['config']).toMatch(/\n +keepalive_timeout 1s;\n/);
    expect(short.hosts.proxy!.counters.delta['Tcp.ActiveOpens']).toBe(REQUESTS);
    expect(short.actors.proxy!['hostActiveOpens']).toBe(REQUESTS);
    expect(standard.hosts.proxy!.counters.delta['Tcp.ActiveOpens']).toBe(1);
    expect(standard.actors.proxy!['hostActiveOpens']).toBe(1);
  });

  it('the idle connections were closed by nginx: the proxy host closed first (TcpExt.TW) at least once per idle gap', () => {
    expect(short.hosts.proxy!.counters.delta['TcpExt.TW']).toBeGreaterThanOrEqual(REQUESTS - 1);
  });
});
