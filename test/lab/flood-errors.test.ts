// Errno accounting of the short-connection flood, read from real failing syscalls in a namespace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActorPlan } from '../../src/core/plan.ts';
import type { Lab } from '../../src/lab/driver.ts';
import { buildLab, nodeInHost } from '../helpers/lab.ts';

const server = (port: number): ActorPlan => ({
  name: 'web', kind: 'http-server', role: 'server', host: 'box',
  options: { port, keepAlive: false, keepAliveTimeout: 5000, closer: 'client', closeStyle: 'graceful', responseBytes: 16, delay: 0, backlog: 511 },
});

const flood = (port: number, count: number, extra: Record<string, unknown> = {}): ActorPlan => ({
  name: 'flood', kind: 'short-conn-client', role: 'load', host: 'box',
  options: { target: 'web', path: '/', model: 'open', rate: 400, maxInFlight: 1000, maxLateness: 1000, concurrency: 1, duration: 30_000, count, closer: 'client', closeStyle: 'graceful', idleTimeout: 5000, ...extra },
  connect: { actor: 'web', host: 'box', address: '127.0.0.1', port },
});

describe('short-conn-client errno accounting', () => {
  let lab: Lab;
  beforeAll(async () => {
    // 20 ports and no reuse: the 21st connection toward one ip:port has no port left.
    lab = await buildLab({ box: { sysctls: { 'net.ipv4.ip_local_port_range': '50000 50019', 'net.ipv4.tcp_tw_reuse': 0, 'net.ipv4.tcp_rfc1337': 1 } } });
  });
  afterAll(() => lab?.teardown());

  it('counts ECONNREFUSED from connect() once per attempt when nothing listens', () => {
    const stats = JSON.parse(nodeInHost(lab, 'box', 'run-actors.ts', [JSON.stringify([flood(9, 15)])])).flood;
    expect(stats.attempts).toBe(15);
    expect(stats.ok).toBe(0);
    expect(stats.errors.ECONNREFUSED).toMatchObject({ count: 15, syscalls: { connect: 15 } });
    expect(stats.firstError).toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect' });
  });

  it('counts EADDRNOTAVAIL from connect() for every attempt past the port budget', () => {
    const stats = JSON.parse(nodeInHost(lab, 'box', 'run-actors.ts', [JSON.stringify([server(8080), flood(8080, 50)])]));
    // ECONNREFUSED's attempts above also used ports of the range, but a refused connect leaves no TIME_WAIT.
    expect(stats.flood.attempts).toBe(50);
    expect(stats.flood.ok).toBe(20);
    expect(stats.flood.connected).toBe(20);
    expect(stats.flood.connectedBeforeFirstError).toBe(20);
    expect(stats.flood.errors).toEqual({ EADDRNOTAVAIL: expect.objectContaining({ count: 30, syscalls: { connect: 30 } }) });
    expect(stats.flood.statuses).toEqual({ 200: 20 });
    expect(stats.web).toMatchObject({ accepted: 20, requests: 20, responses: 20, peerClosedFirst: 20, serverClosedFirst: 0 });
  });
});
