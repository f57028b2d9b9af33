// keepalive-vs-close in a short form: 100 requests per second for 2 s, over 2 kept-alive connections on one
// host and one connection per request on the other. Connections per request come from Tcp.ActiveOpens.
import { beforeAll, describe, expect, it } from 'vitest';
import { type TestReport, runShort } from '../helpers/lab.ts';

describe('keepalive-vs-close scenario', () => {
  let report: TestReport;
  beforeAll(async () => {
    ({ report } = await runShort('keepalive-vs-close', { rate: '100/s', duration: '2s', connections: '2' }));
  });

  it('carries every keep-alive request over the 2 connections autocannon opened', () => {
    const ka = report.actors.keepalive!;
    expect(ka['ok']).toBeGreaterThanOrEqual(190);
    expect(ka['errors']).toEqual({});
    expect(report.hosts.kaclient!.counters.delta['Tcp.ActiveOpens']).toBe(2);
    expect(report.hosts.kaclient!.peak.total.TIME_WAIT).toBeLessThanOrEqual(2);
  });

  it('opens one connection per request without keep-alive, each leaving a TIME_WAIT on the closing client', () => {
    const flood = report.actors.flood!;
    const conns = flood['connected'] as number;
    expect(flood['ok']).toBe(conns);
    expect(conns).toBeGreaterThanOrEqual(190);
    expect(report.hosts.client!.counters.delta['Tcp.ActiveOpens']).toBe(conns);
    expect(report.hosts.client!.peak.ephemeral.TIME_WAIT).toBe(conns);
    expect(report.hosts.server!.counters.delta['Tcp.PassiveOpens']).toBe(conns + 2);
  });

  it('compares both sides in its findings and passes its thresholds', () => {
    const text = report.findings.join('\n');
    expect(text).toMatch(/Host kaclient \(actor keepalive, keep-alive\): \d+ responses over 2 new connections/);
    expect(text).toMatch(/keep-alive opened [\d,]+x fewer connections/);
    expect(report.thresholds.filter((t) => !t.ok)).toEqual([]);
  });
});
