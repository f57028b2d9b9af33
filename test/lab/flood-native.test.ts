// The flood's native engine (native/flood.c) closes as the scenario says, read from the kernels of both hosts:
// where TIME_WAIT is held, who sent the RSTs, and an idle connection ended as REQUEST_TIMEOUT (with closeStyle rst
// by an RST, in both engines). Each pair of hosts runs one way of closing, 200 connections, 4 at a time.
import { beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/controller/run-scenario.ts';
import { defineScenario } from '../../src/core/scenario.ts';
import { resolvePlan } from '../../src/plan/load-plan.ts';
import { type TestReport, tempDir } from '../helpers/lab.ts';

const COUNT = 200;
const HOLD_COUNT = 10;

describe('short-conn-client, engine native', () => {
  let report: TestReport;
  beforeAll(async () => {
    // The closed model: a count is made whole however busy the machine is (the open model would miss late starts).
    const flood = {
      kind: 'short-conn-client',
      model: 'closed',
      concurrency: 4,
      duration: '10s',
      count: COUNT,
      engine: 'native',
      idleTimeout: '3s',
    } as const;
    const scenario = defineScenario({
      name: 'flood-native',
      description: 'the native engine: who closes, and an idle timeout',
      params: {},
      build: () => ({
        hosts: {
          ...{ c1: {}, s1: {}, c2: {}, s2: {}, c3: {}, s3: {}, c4: {}, s4: {}, c5: {}, s5: {} },
          ...{ c6: {}, s6: {}, c7: {}, s7: {} },
        },
        actors: {
          web1: { kind: 'http-server', host: 's1', port: 8080, keepAlive: false, closer: 'client' },
          graceful: { ...flood, host: 'c1', target: 'web1', closer: 'client', closeStyle: 'graceful' },
          web2: { kind: 'http-server', host: 's2', port: 8080, keepAlive: false, closer: 'client' },
          rst: { ...flood, host: 'c2', target: 'web2', closer: 'client', closeStyle: 'rst' },
          web3: { kind: 'http-server', host: 's3', port: 8080, keepAlive: false, closer: 'server' },
          server: { ...flood, host: 'c3', target: 'web3', closer: 'server' },
          slow: { kind: 'listener', host: 's4', port: 8080, hold: '5s' },
          idle: { ...flood, host: 'c4', target: 'slow', count: HOLD_COUNT, idleTimeout: '300ms' },
          slow6: { kind: 'listener', host: 's6', port: 8080, hold: '5s' },
          'idle-rst': {
            ...flood,
            host: 'c6',
            target: 'slow6',
            count: HOLD_COUNT,
            idleTimeout: '300ms',
            closeStyle: 'rst',
          },
          slow7: { kind: 'listener', host: 's7', port: 8080, hold: '5s' },
          'idle-rst-node': {
            ...flood,
            host: 'c7',
            target: 'slow7',
            count: HOLD_COUNT,
            idleTimeout: '300ms',
            closeStyle: 'rst',
            engine: 'node',
          },
          web5: { kind: 'http-server', host: 's5', port: 8080, keepAlive: false, closer: 'client' },
          // A count smaller than the workers: the second worker's share is none, and it makes no attempt.
          single: { ...flood, host: 'c5', target: 'web5', count: 1, workers: 2 },
        },
      }),
    });
    ({ report } = (await runScenario(resolvePlan(scenario, 'test', {}), { outDir: tempDir() })) as {
      report: TestReport;
    });
  });

  const delta = (host: string, counter: string) => report.hosts[host]!.counters.delta[counter];

  it('closer client, graceful: every connection answered, and its TIME_WAIT on the client', () => {
    expect(report.actors.graceful).toMatchObject({
      workers: 1,
      attempts: COUNT,
      connected: COUNT,
      responses: COUNT,
      ok: COUNT,
      errorCount: 0,
      statuses: { 200: COUNT },
    });
    expect(report.actors.graceful!['latencyMs'].count).toBe(COUNT);
    expect(delta('c1', 'Tcp.ActiveOpens')).toBe(COUNT);
    expect(report.hosts.c1!.peak.sockstatTw).toBe(COUNT);
    expect(report.hosts.s1!.peak.sockstatTw).toBe(0);
  });

  it('closer client, rst: an RST per connection from the client, and no TIME_WAIT on either side', () => {
    expect(report.actors.rst).toMatchObject({ attempts: COUNT, ok: COUNT, errorCount: 0 });
    expect(delta('c2', 'Tcp.OutRsts')).toBeGreaterThanOrEqual(COUNT);
    expect(delta('s2', 'Tcp.EstabResets')).toBe(COUNT);
    expect(report.hosts.c2!.peak.sockstatTw).toBe(0);
    expect(report.hosts.s2!.peak.sockstatTw).toBe(0);
  });

  it("closer server: the client waits for the FIN, and the TIME_WAIT is the server's", () => {
    expect(report.actors.server).toMatchObject({ attempts: COUNT, ok: COUNT, peerClosed: COUNT, errorCount: 0 });
    expect(report.hosts.s3!.peak.sockstatTw).toBe(COUNT);
    expect(report.hosts.c3!.peak.sockstatTw).toBe(0);
  });

  it('ends a connection with no progress for idleTimeout as REQUEST_TIMEOUT', () => {
    const idle = report.actors.idle!;
    expect(idle).toMatchObject({ attempts: HOLD_COUNT, connected: HOLD_COUNT, responses: 0, errorCount: HOLD_COUNT });
    expect(idle['errors']).toEqual({
      REQUEST_TIMEOUT: expect.objectContaining({ count: HOLD_COUNT, syscalls: { none: HOLD_COUNT } }),
    });
    expect(idle['firstError']).toMatchObject({ code: 'REQUEST_TIMEOUT', syscall: 'none' });
    // graceful: the client's FIN, which the holding listener's kernel acknowledges; no RST reaches it.
    expect(delta('s4', 'Tcp.EstabResets')).toBe(0);
    expect(idle['resetOnGiveUp']).toBe(0);
  });

  it('with closeStyle rst, ends an idle connection by an RST in both engines, so no orphan keeps its port', () => {
    for (const [actor, client, server] of [
      ['idle-rst', 'c6', 's6'],
      ['idle-rst-node', 'c7', 's7'],
    ] as const) {
      expect(report.actors[actor]).toMatchObject({
        connected: HOLD_COUNT,
        responses: 0,
        errorCount: HOLD_COUNT,
        resetOnGiveUp: HOLD_COUNT,
      });
      expect(report.actors[actor]!['errors']).toEqual({
        REQUEST_TIMEOUT: expect.objectContaining({ count: HOLD_COUNT }),
      });
      expect(delta(client, 'Tcp.OutRsts')).toBe(HOLD_COUNT);
      expect(delta(server, 'Tcp.EstabResets')).toBe(HOLD_COUNT);
      expect(report.hosts[client]!.peak.total.FIN_WAIT1).toBe(0);
      expect(report.hosts[client]!.peak.total.FIN_WAIT2).toBe(0);
      // The resets finding counts them as the actor's, given up before their response.
      const resets = report.claims!.find((f) => f.rule === 'resets' && f.host === client)!;
      expect(resets.claims.find((c) => c.name === 'resetsSent')!.value).toBe(HOLD_COUNT);
      expect(resets.claims.find((c) => c.name === 'resetOnGiveUp')!.value).toBe(HOLD_COUNT);
      expect(report.findings[resets.finding]).toContain(`${HOLD_COUNT} of them connections it gave up`);
    }
  });

  it('splits a count of 1 over 2 workers as 1 and 0: one connection in all', () => {
    expect(report.actors.single).toMatchObject({ workers: 2, attempts: 1, missedStarts: 0, connected: 1, ok: 1 });
    expect(delta('c5', 'Tcp.ActiveOpens')).toBe(1);
  });
});
