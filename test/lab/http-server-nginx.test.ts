// http-server with engine nginx: a real nginx serves the flood, and its keep-alive settings choose who closes,
// read from the kernel: TIME_WAIT and TcpExt.TW on the end that closed first, none on the other.
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../src/controller/run-scenario.ts';
import { defineScenario } from '../../src/core/scenario.ts';
import { PlanValidationError } from '../../src/core/errors.ts';
import { resolvePlan } from '../../src/plan/load-plan.ts';
import { type TestReport, tempDir } from '../helpers/lab.ts';
import { describeWithTools } from '../helpers/tools.ts';

const COUNT = 300;

/** The client closes as the server is told to: waiting for nginx's FIN, or first (a race would split the closes). */
async function flood(web: { closer: 'server' | 'client' } & Record<string, unknown>): Promise<TestReport> {
  const scenario = defineScenario({
    name: 'nginx-server',
    description: 'a short-connection flood against nginx',
    params: {},
    build: () => ({
      // tcp_rfc1337: no RST may end a TIME_WAIT entry early, so the counts are exact.
      hosts: { client: { sysctls: { 'net.ipv4.tcp_rfc1337': 1 } }, server: { sysctls: { 'net.ipv4.tcp_rfc1337': 1 } } },
      actors: {
        web: { kind: 'http-server', host: 'server', port: 8080, engine: 'nginx', ...web },
        flood: {
          kind: 'short-conn-client',
          host: 'client',
          target: 'web',
          rate: '300/s',
          count: COUNT,
          closer: web.closer,
        },
      },
    }),
  });
  const { report } = await runScenario(resolvePlan(scenario, 'test', {}), { outDir: tempDir() });
  return report as TestReport;
}

describeWithTools(['nginx'], 'http-server engine nginx', () => {
  it('keep-alive off, server closes: nginx closes after every response, TIME_WAIT on the server only', async () => {
    const report = await flood({ keepAlive: false, closer: 'server' });
    const flood_ = report.actors.flood!;
    expect(flood_['ok']).toBe(COUNT);
    expect(flood_['errors']).toEqual({});
    expect(report.actors.web!['engine']).toBe('nginx');
    expect(report.actors.web!['config']).toContain('keepalive_timeout 0s;');
    const server = report.hosts.server!;
    expect(server.counters.delta['Tcp.PassiveOpens']).toBe(COUNT);
    expect(server.counters.delta['TcpExt.TW']).toBe(COUNT);
    // Every connection entered TIME_WAIT on the server (TcpExt.TW above); the census's peak is the kernel's own
    // count (sockstat tw), which can be a few short of it: a client SYN that reuses a 4-tuple still in the server's
    // TIME_WAIT takes the entry over, with no counter (CI once: TW +300, sockstat tw and census 295, no RST sent). The
    // client's port search starts at the kernel's global table_perturb slot for this address pair, which another lab
    // on the same kernel with the same addresses moves.
    expect(server.peak.listen.TIME_WAIT).toBe(server.peak.sockstatTw);
    expect(server.peak.listen.TIME_WAIT).toBeGreaterThan(COUNT * 0.9);
    expect(server.peak.listen.TIME_WAIT).toBeLessThanOrEqual(COUNT);
    expect(report.hosts.client!.counters.delta['Tcp.OutRsts']).toBe(0);
    expect(report.hosts.client!.counters.delta['TcpExt.TW']).toBe(0);
    expect(report.hosts.client!.peak.total.TIME_WAIT).toBe(0);
  });

  it("keep-alive off, client closes: nginx waits for the client's FIN, TIME_WAIT on the client only", async () => {
    const report = await flood({ keepAlive: false, closer: 'client', responseBytes: 100_000 });
    expect(report.actors.flood!['ok']).toBe(COUNT);
    expect(report.hosts.client!.counters.delta['TcpExt.TW']).toBe(COUNT);
    expect(report.hosts.client!.peak.ephemeral.TIME_WAIT).toBe(COUNT);
    expect(report.hosts.server!.counters.delta['TcpExt.TW']).toBe(0);
    expect(report.hosts.server!.peak.total.TIME_WAIT).toBe(0);
  });
});

// Validation alone: it needs no nginx, and runs where nginx is missing too (the problems are listed with it).
describe('http-server engine nginx, validated', () => {
  it('refuses, before any lab, the options only the node engine has', () => {
    const scenario = defineScenario({
      name: 'nginx-server-bad',
      description: 'nginx cannot leak or reset',
      params: {},
      build: () => ({
        hosts: { server: {} },
        actors: { web: { kind: 'http-server', host: 'server', engine: 'nginx', closeStyle: 'rst', delay: '10ms' } },
      }),
    });
    expect(() => resolvePlan(scenario, 'test', {})).toThrow(PlanValidationError);
    expect(() => resolvePlan(scenario, 'test', {})).toThrow(
      /closeStyle: "rst" needs engine node[\s\S]*delay: 10 needs engine node/,
    );
  });
});
