// The built-in undici proxy, for machines with neither nginx nor HAProxy: the same story as nginx, from the
// kernel's counters and the proxy's own error tally.
import { describe, expect, it } from 'vitest';
import { type TestReport as Report, runShort } from '../helpers/lab.ts';

const BUDGET = 300;
const SHORT = { engine: 'builtin', proxyPorts: '40000-40299', rate: '300/s', duration: '2s' };

const run = async (scenario: string) => (await runShort(scenario, SHORT)).report;
const errorLog = (r: Report) =>
  r.actors.proxy!['errorLog'] as { causes: Record<string, number>; errno: Record<string, number> };

describe('built-in proxy', () => {
  it('without keep-alive: one upstream connection per request, closed by the proxy, until EADDRNOTAVAIL and 502', async () => {
    const report = await run('proxy-short-upstream');
    const connected = Number(report.actors.flood!['connected']);
    expect(report.hosts.proxy!.counters.delta['Tcp.ActiveOpens']).toBe(BUDGET);
    expect(report.hosts.proxy!.peak.peers.ephemeral['198.18.0.3:8080']!.TIME_WAIT).toBeGreaterThanOrEqual(
      BUDGET * 0.98,
    );
    expect(report.hosts.backend1!.peak.total.TIME_WAIT).toBe(0);
    expect(report.actors.flood!['statuses']).toEqual({ 200: BUDGET, 502: connected - BUDGET });
    expect(errorLog(report).errno).toEqual({ EADDRNOTAVAIL: connected - BUDGET });
    expect(report.thresholds.filter((t) => !t.ok)).toEqual([]);
  });

  it('with a pool: few upstream connections, no error', async () => {
    const report = await run('proxy-keepalive-upstream');
    const connected = Number(report.actors.flood!['connected']);
    expect(report.actors.flood!['statuses']).toEqual({ 200: connected });
    expect(report.hosts.proxy!.counters.delta['Tcp.ActiveOpens']).toBeLessThanOrEqual(connected / 20);
    expect(errorLog(report).causes.portsExhausted).toBe(0);
    expect(report.thresholds.filter((t) => !t.ok)).toEqual([]);
  });
});
