// The http-client actor (an undici pool) against the node http-server, read from the kernel: connections opened
// (Tcp.PassiveOpens, the server's accept() count), TIME_WAIT entered (TcpExt.TW), and statuses counted as errors.
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../src/controller/run-scenario.ts';
import { defineScenario } from '../../src/core/scenario.ts';
import { resolvePlan } from '../../src/plan/load-plan.ts';
import { renderText } from '../../src/outputs/terminal-summary.ts';
import type { Report } from '../../src/report/report.ts';
import { type TestReport, tempDir } from '../helpers/lab.ts';

// An agent's event loop may stall at the load's start (its first census): a late start would be missed, not made
// up (the open model), and the counts below would be short by it. maxLateness 1s lets a stall pass.
async function run(actors: Record<string, Record<string, unknown>>): Promise<TestReport> {
  for (const a of Object.values(actors)) if (a['kind'] !== 'http-server') a['maxLateness'] = '1s';
  const scenario = defineScenario({
    name: 'http-client',
    description: 'an undici pool against the node server',
    params: {},
    build: () => ({
      // tcp_rfc1337: no RST may end a TIME_WAIT entry early, so the counts are exact.
      hosts: { client: { sysctls: { 'net.ipv4.tcp_rfc1337': 1 } }, server: { sysctls: { 'net.ipv4.tcp_rfc1337': 1 } } },
      actors: actors as never,
    }),
  });
  const { report } = await runScenario(resolvePlan(scenario, 'test', {}), { outDir: tempDir() });
  if (process.env.SHOW)
    console.error(
      JSON.stringify({
        actors: report.actors,
        server: report.hosts.server!.counters.delta,
        client: report.hosts.client!.counters.delta,
      }).slice(0, 4000),
    );
  return report as TestReport;
}

describe('http-client actor', () => {
  it('a pool of 2 carries every request over 2 connections', async () => {
    const N = 100;
    // A 20 ms response keeps both connections busy, so the pool opens both and queues the rest on them.
    const report = await run({
      web: { kind: 'http-server', host: 'server', port: 8080, delay: '20ms' },
      pool: {
        kind: 'http-client',
        host: 'client',
        target: 'web',
        connections: 2,
        rate: '200/s',
        count: N,
        duration: '5s',
      },
    });
    const pool = report.actors.pool!;
    expect(pool['ok']).toBe(N);
    expect(pool['errors']).toEqual({});
    expect(pool['newConnections']).toBe(2);
    expect(pool['requestsOnReused']).toBe(N - 2);
    expect(report.actors.web!['accepted']).toBe(2);
    expect(report.hosts.server!.counters.delta['Tcp.PassiveOpens']).toBe(2);
    expect(report.hosts.client!.counters.delta['Tcp.ActiveOpens']).toBe(2);
  });

  it("a server idle timeout (1 s) below the pool's (4 s), requests 1.5 s apart: every request opens a new connection", async () => {
    const N = 4;
    const report = await run({
      // No Keep-Alive hint: undici would otherwise close the idle connection itself, before the server.
      web: { kind: 'http-server', host: 'server', port: 8080, keepAliveTimeout: '1s', keepAliveHeader: false },
      pool: {
        kind: 'http-client',
        host: 'client',
        target: 'web',
        connections: 2,
        keepAliveTimeout: '4s',
        rate: '40/m',
        count: N,
        duration: '10s',
      },
    });
    const pool = report.actors.pool!;
    expect(pool['ok']).toBe(N);
    expect(pool['newConnections']).toBe(N);
    expect(pool['requestsOnReused']).toBe(0);
    const web = report.actors.web!;
    expect(web['accepted']).toBe(N);
    // Each connection but the last had idled out on the server before the next request came.
    expect(web['idleCloses']).toBeGreaterThanOrEqual(N - 1);
    expect(report.hosts.server!.counters.delta['TcpExt.TW']).toBeGreaterThanOrEqual(N - 1);
  });

  it('a close-delimited body: the server closes first, every connection, TIME_WAIT on the server per request', async () => {
    const N = 20;
    const report = await run({
      web: { kind: 'http-server', host: 'server', port: 8080, body: 'close-delimited', responseBytes: 1000 },
      pool: {
        kind: 'http-client',
        host: 'client',
        target: 'web',
        connections: 4,
        rate: '50/s',
        count: N,
        duration: '5s',
      },
    });
    expect(report.actors.pool!['ok']).toBe(N);
    expect(report.actors.pool!['newConnections']).toBe(N);
    expect(report.actors.web!['serverClosedFirst']).toBe(N);
    expect(report.hosts.server!.counters.delta['TcpExt.TW']).toBe(N);
    expect(report.hosts.client!.counters.delta['TcpExt.TW']).toBe(0);
  });

  it("502 and 503 answers are errors by status, in report.json and the terminal summary's Errors table", async () => {
    const N = 10;
    const report = await run({
      bad: { kind: 'http-server', host: 'server', port: 8080, status: 502 },
      busy: { kind: 'http-server', host: 'server', port: 8081, status: 503 },
      pool: { kind: 'http-client', host: 'client', target: 'bad', rate: '50/s', count: N, duration: '5s' },
      flood: { kind: 'short-conn-client', host: 'client', target: 'busy', rate: '50/s', count: N },
    });
    const pool = report.actors.pool!;
    expect(pool['ok']).toBe(0);
    expect(pool['statuses']).toEqual({ 502: N });
    expect(pool['errorCount']).toBe(N);
    expect(pool['errors']['HTTP_502'].count).toBe(N);
    expect(pool['firstError'].code).toBe('HTTP_502');
    const flood = report.actors.flood!;
    expect(flood['ok']).toBe(0);
    expect(flood['statuses']).toEqual({ 503: N });
    expect(flood['errors']['HTTP_503'].count).toBe(N);
    const text = renderText(report as unknown as Report);
    const errorsTable = text.slice(text.indexOf('Errors'));
    expect(errorsTable).toMatch(/pool\s+HTTP_502\s+response\s+10/);
    expect(errorsTable).toMatch(/flood\s+HTTP_503\s+response\s+10/);
  });
});
