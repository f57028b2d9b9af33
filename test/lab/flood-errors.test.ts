// Errno accounting of the short-connection flood, read from real failing syscalls in a namespace, the same from its
// node engine (node:net) and its native one (native/flood.c, on a worker thread).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActorPlan } from '../../src/core/plan.ts';
import type { Lab } from '../../src/lab/driver.ts';
import { buildLab, nodeInHost } from '../helpers/lab.ts';

// Options left out take the kind's defaults (run-actors.ts resolves them as a plan would).
const server = (port: number): ActorPlan => ({
  name: 'web',
  kind: 'http-server',
  role: 'server',
  host: 'box',
  options: { port, keepAlive: false, closer: 'client', responseBytes: 16 },
});

const flood = (engine: string, port: number, count: number, extra: Record<string, unknown> = {}): ActorPlan => ({
  name: 'flood',
  kind: 'short-conn-client',
  role: 'load',
  host: 'box',
  options: {
    target: 'web',
    rate: '400/s',
    maxLateness: '1s',
    duration: '30s',
    count,
    closer: 'client',
    engine,
    ...extra,
  },
  connect: { actor: 'web', host: 'box', address: '127.0.0.1', port },
});

describe.each(['node', 'native'])('short-conn-client errno accounting, engine %s', (engine) => {
  let lab: Lab;
  beforeAll(async () => {
    // 20 ports and no reuse: the 21st connection toward one ip:port has no port left.
    lab = await buildLab({
      box: {
        sysctls: {
          'net.ipv4.ip_local_port_range': '50000 50019',
          'net.ipv4.tcp_tw_reuse': 0,
          'net.ipv4.tcp_rfc1337': 1,
        },
      },
    });
  });
  afterAll(() => lab?.teardown());

  it('counts ECONNREFUSED from connect() once per attempt when nothing listens', () => {
    const stats = JSON.parse(nodeInHost(lab, 'box', 'run-actors.ts', [JSON.stringify([flood(engine, 9, 15)])])).flood;
    expect(stats.attempts).toBe(15);
    expect(stats.ok).toBe(0);
    expect(stats.errors.ECONNREFUSED).toMatchObject({ count: 15, syscalls: { connect: 15 } });
    expect(stats.firstError).toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect' });
  });

  it('counts EADDRNOTAVAIL from connect() for every attempt past the port budget', () => {
    const stats = JSON.parse(
      nodeInHost(lab, 'box', 'run-actors.ts', [JSON.stringify([server(8080), flood(engine, 8080, 50)])]),
    );
    // ECONNREFUSED's attempts above also used ports of the range, but a refused connect leaves no TIME_WAIT.
    expect(stats.flood.attempts).toBe(50);
    expect(stats.flood.ok).toBe(20);
    expect(stats.flood.connected).toBe(20);
    expect(stats.flood.connectedBeforeFirstError).toBe(20);
    expect(stats.flood.errors).toEqual({
      EADDRNOTAVAIL: expect.objectContaining({ count: 30, syscalls: { connect: 30 } }),
    });
    expect(stats.flood.statuses).toEqual({ 200: 20 });
    expect(stats.web).toMatchObject({
      accepted: 20,
      requests: 20,
      responses: 20,
      peerClosedFirst: 20,
      serverClosedFirst: 0,
    });
  });

  it('keeps failing at once in the closed model once no port is left, and still ends at its duration', () => {
    // The 20 ports toward 8080 are all in TIME_WAIT from the second case: every connect() fails before any SYN.
    const stats = JSON.parse(
      nodeInHost(lab, 'box', 'run-actors.ts', [
        JSON.stringify([flood(engine, 8080, 1_000_000, { model: 'closed', concurrency: 3, duration: '300ms' })]),
      ]),
    ).flood;
    expect(stats.connected).toBe(0);
    expect(stats.attempts).toBeGreaterThan(3);
    expect(stats.attempts).toBeLessThan(1_000_000);
    expect(stats.errors).toEqual({
      EADDRNOTAVAIL: expect.objectContaining({ count: stats.attempts, syscalls: { connect: stats.attempts } }),
    });
  });

  it('runs the closed model to its count, with no start missed', () => {
    // Ports on 8081 share the 20-port range with the TIME_WAIT left toward 8080, but not their 4-tuples.
    const stats = JSON.parse(
      nodeInHost(lab, 'box', 'run-actors.ts', [
        JSON.stringify([server(8081), flood(engine, 8081, 12, { model: 'closed', concurrency: 3 })]),
      ]),
    );
    expect(stats.flood).toMatchObject({ attempts: 12, ok: 12, missedStarts: 0, errorCount: 0 });
    expect(stats.web).toMatchObject({ accepted: 12, peerClosedFirst: 12 });
  });
});
