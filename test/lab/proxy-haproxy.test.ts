// HAProxy between a client and a backend, in short forms of the haproxy-* scenarios. What the kernel shows: in http
// mode HAProxy never closes a server connection with a FIN of its own (it resets it), so it holds no TIME_WAIT and
// does not run out of ports; in tcp mode it mirrors the client's FIN, holds the TIME_WAIT and logs "no free ports".
import { beforeAll, expect, it } from 'vitest';
import { type TestReport as Report, runShort } from '../helpers/lab.ts';
import { describeWithTools } from '../helpers/tools.ts';

const BUDGET = 300;
const SHORT = { proxyPorts: '40000-40299', rate: '300/s', duration: '2s' };
const UPSTREAM = '198.18.0.3:8080';

const run = async (scenario: string, extra: Record<string, string> = {}) =>
  (await runShort(scenario, { ...SHORT, ...extra })).report;
const errorLog = (r: Report) =>
  r.actors.proxy!['errorLog'] as { causes: Record<string, number>; kinds: Record<string, number> };
const delta = (r: Report, host: string, counter: string) => r.hosts[host]!.counters.delta[counter] ?? 0;

describeWithTools(['haproxy'], 'HAProxy, http-server-close and http-reuse never', () => {
  let report: Report;
  beforeAll(async () => {
    report = await run('haproxy-short-upstream');
  });

  it('opens one upstream connection per request and resets each one itself: no TIME_WAIT on either side', () => {
    const connected = Number(report.actors.flood!['connected']);
    expect(connected).toBeGreaterThan(BUDGET * 1.5);
    expect(delta(report, 'proxy', 'Tcp.ActiveOpens')).toBe(connected);
    // SO_LINGER 0 closes: one RST per upstream connection, counted by the proxy's kernel as TCPAbortOnData.
    expect(delta(report, 'proxy', 'Tcp.OutRsts')).toBe(connected);
    expect(delta(report, 'proxy', 'TcpExt.TCPAbortOnData')).toBe(connected);
    expect(delta(report, 'backend1', 'Tcp.EstabResets')).toBe(connected);
    expect(report.hosts.proxy!.peak.ephemeral.TIME_WAIT).toBe(0);
    expect(report.hosts.backend1!.peak.total.TIME_WAIT).toBe(0);
    expect(report.findings.join('\n')).toMatch(/Neither host held TIME_WAIT for them: the proxy closed them by RST/);
  });

  it('so a port budget smaller than the requests never runs out', () => {
    const connected = Number(report.actors.flood!['connected']);
    expect(report.actors.flood!['statuses']).toEqual({ 200: connected });
    expect(errorLog(report).causes.portsExhausted).toBe(0);
    expect(report.thresholds.filter((t) => !t.ok)).toEqual([]);
  });
});

describeWithTools(['haproxy'], 'HAProxy in tcp mode', () => {
  let report: Report;
  beforeAll(async () => {
    report = await run('haproxy-short-upstream', { mode: 'tcp' });
  });

  it('closes first after the client, fills its port budget with TIME_WAIT toward the upstream and logs "no free ports"', () => {
    expect(delta(report, 'proxy', 'Tcp.ActiveOpens')).toBe(BUDGET);
    const towardUpstream = report.hosts.proxy!.peak.peers.ephemeral[UPSTREAM]!.TIME_WAIT!;
    expect(towardUpstream).toBeGreaterThanOrEqual(BUDGET * 0.98);
    expect(towardUpstream).toBeLessThanOrEqual(BUDGET * 1.02);
    expect(report.hosts.backend1!.peak.total.TIME_WAIT).toBe(0);
    const log = errorLog(report);
    expect(log.causes.portsExhausted).toBeGreaterThan(0);
    expect(Object.keys(log.kinds)).toContain('Connect() failed for backend waitlab_upstreams: no free ports.');
    // Layer 4: a client whose connection found no upstream port gets no response at all.
    expect(report.actors.flood!['ok']).toBe(BUDGET);
    expect(report.thresholds.filter((t) => !t.ok)).toEqual([]);
  });
});

describeWithTools(['haproxy'], 'HAProxy in tcp mode with its own source port range', () => {
  it('binds each port itself, so connect() takes over TIME_WAIT entries despite tcp_tw_reuse=0 and never runs out', async () => {
    const report = await run('haproxy-short-upstream', { mode: 'tcp', sourcePorts: '45000-45099' });
    const connected = Number(report.actors.flood!['connected']);
    expect(report.actors.proxy!['config']).toMatch(/server u0 198\.18\.0\.3:8080 source 198\.18\.0\.2:45000-45099/);
    expect(report.hosts.proxy!.sysctls['net.ipv4.tcp_tw_reuse']).toBe('0');
    expect(report.actors.flood!['ok']).toBe(connected);
    expect(delta(report, 'proxy', 'Tcp.ActiveOpens')).toBe(connected);
    // At most one TIME_WAIT per port of the range; every further connection took one over.
    expect(report.hosts.proxy!.peak.sockstatTw).toBeLessThanOrEqual(100);
    expect(delta(report, 'proxy', 'TcpExt.TWRecycled')).toBeGreaterThanOrEqual((connected - 100) * 0.9);
    expect(errorLog(report).causes.portsExhausted).toBe(0);
  });
});

describeWithTools(['haproxy'], 'HAProxy with http-reuse always and a server pool', () => {
  it('carries every request on a few upstream connections', async () => {
    const report = await run('haproxy-keepalive-upstream');
    const connected = Number(report.actors.flood!['connected']);
    expect(report.actors.flood!['statuses']).toEqual({ 200: connected });
    expect(delta(report, 'proxy', 'Tcp.ActiveOpens')).toBeLessThanOrEqual(connected / 20);
    expect(errorLog(report).causes.portsExhausted).toBe(0);
    expect(report.thresholds.filter((t) => !t.ok)).toEqual([]);
  });
});
