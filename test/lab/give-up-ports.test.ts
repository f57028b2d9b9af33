// A client that gives its connections up by RST (closeStyle rst, idleTimeout) against a server that holds them
// unanswered: no TIME_WAIT, yet each connection keeps its port until the client gives up. Two pairs of hosts, the
// same load (200/s for 1 s, idleTimeout 300 ms: 60 ports busy at once), one with 20 ports and one with 200: the
// prediction says which runs out, and the kernels agree (EADDRNOTAVAIL, the RSTs the client sent).
import { beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/controller/run-scenario.ts';
import { defineScenario } from '../../src/core/scenario.ts';
import { resolvePlan } from '../../src/plan/load-plan.ts';
import { type TestReport, tempDir } from '../helpers/lab.ts';

const flood = {
  kind: 'short-conn-client',
  model: 'open',
  rate: '200/s',
  duration: '1s',
  idleTimeout: '300ms',
  closeStyle: 'rst',
} as const;

describe('connections given up by RST against a server that holds them', () => {
  let report: TestReport;
  beforeAll(async () => {
    const scenario = defineScenario({
      name: 'give-up-ports',
      description: 'ports busy until the client gives up, with and without enough of them',
      params: {},
      build: () => ({
        hosts: {
          few: { sysctls: { 'net.ipv4.ip_local_port_range': '40000 40019' } },
          many: { sysctls: { 'net.ipv4.ip_local_port_range': '40000 40199' } },
          s1: {},
          s2: {},
        },
        actors: {
          hold1: { kind: 'listener', host: 's1', port: 8080, hold: '5s' },
          hold2: { kind: 'listener', host: 's2', port: 8080, hold: '5s' },
          short: { ...flood, host: 'few', target: 'hold1' },
          enough: { ...flood, host: 'many', target: 'hold2' },
        },
      }),
    });
    ({ report } = (await runScenario(resolvePlan(scenario, 'test', {}), { outDir: tempDir() })) as {
      report: TestReport;
    });
  });

  it('predicts the ports run out where 60 are wanted at once of 20, and the kernel refuses connect() there', () => {
    const p = report.predictions.short!.exhaustion!;
    expect(p.predictedMs).not.toBeNull();
    expect(p.basis).toContain('each port is busy 300 ms');
    expect(p.measuredMs).not.toBeNull();
    const short = report.actors.short!;
    expect((short['errors'] as Record<string, { count: number }>)['EADDRNOTAVAIL']!.count).toBeGreaterThan(0);
    // Every connection made was given up by RST: none was answered, and none kept its port after.
    expect(short['ok']).toBe(0);
    expect(short['resetOnGiveUp']).toBe(short['connected']);
    expect(report.hosts.few!.counters.delta['Tcp.OutRsts']).toBe(short['connected']);
    expect(report.hosts.few!.peak.total.TIME_WAIT).toBe(0);
  });

  it('predicts none where 200 are there, and none is refused', () => {
    const p = report.predictions.enough!.exhaustion!;
    expect(p.predictedMs).toBeNull();
    expect(p.basis).toMatch(/^does not apply: the server holds each connection 5,000 ms without an answer/);
    expect(p.measuredMs).toBeNull();
    const enough = report.actors.enough!;
    expect(enough['errors']).toEqual({
      REQUEST_TIMEOUT: expect.objectContaining({ count: enough['connected'] }),
    });
    expect(enough['resetOnGiveUp']).toBe(enough['connected']);
  });
});
