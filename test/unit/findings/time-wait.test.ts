import { describe, expect, it } from 'vitest';
import { timeWaitFindings } from '../../../src/report/findings/time-wait.ts';
import { about, dur, host, loadReportFixture, n, only, pct, runRule, stats } from '../fixture.ts';

describe('timeWaitFindings', () => {
  it('short-conn: the client piled up TIME_WAIT as the client side, against its 1,000-port range', () => {
    const report = loadReportFixture('short-conn');
    const client = host(report, 'client');
    const out = runRule(timeWaitFindings, report);
    expect(out).toHaveLength(2);
    const s = only(out, 'host client');
    expect(s).toContain(`TIME_WAIT piled up on host client: peak ${n(client.peak.total.TIME_WAIT)}`);
    expect(s).toContain(`(${n(client.peak.ephemeral.TIME_WAIT)} on ephemeral ports, ${n(client.peak.listen.TIME_WAIT)} on ports it listens on)`);
    expect(s).toContain(`at ${dur(client.peak.atMs.TIME_WAIT!)}`);
    expect(s).toContain('closed these connections first, as their client side');
    expect(s).toContain('60 s (TCP_TIMEWAIT_LEN');
    expect(s).toContain('tcp_fin_timeout does not change it');
    // The scenario gives the client 40000-40999: a 1,000-port budget.
    expect(s).toContain(`That is ${pct(client.peak.ephemeral.TIME_WAIT, 1000)} of its 1,000-port ip_local_port_range (40000-40999).`);
    expect(client.peak.total.TIME_WAIT).toBeGreaterThan(0);
  });

  it('short-conn: the server held none, and says on how many connections its peer closed first', () => {
    const report = loadReportFixture('short-conn');
    expect(host(report, 'server').peak.total.TIME_WAIT).toBe(0);
    const s = only(runRule(timeWaitFindings, report), 'Host server held');
    expect(s).toBe(
      `Host server held no TIME_WAIT (peak 0): its peers closed first on ${n(stats(report, 'web')['peerClosedFirst'])} connections and it closed only after their FIN, a passive close that ends in LAST_ACK, not TIME_WAIT.`,
    );
  });

  it('server-close: the server holds TIME_WAIT on its listening port, as the server side, with no port-range share', () => {
    const report = loadReportFixture('server-close');
    const server = host(report, 'server');
    const out = runRule(timeWaitFindings, report);
    const s = only(out, 'host server');
    expect(s).toContain(`peak ${n(server.peak.total.TIME_WAIT)} (${n(server.peak.ephemeral.TIME_WAIT)} on ephemeral ports, ${n(server.peak.listen.TIME_WAIT)} on ports it listens on)`);
    expect(s).toContain('as their server side');
    expect(s).not.toContain('ip_local_port_range');
    // The client closed nothing first and serves nothing: not a word about it.
    expect(about(out, 'client')).toEqual([]);
  });

  it('tw-bucket-overflow: a 300-port range and the capped peak', () => {
    const report = loadReportFixture('tw-bucket-overflow');
    const client = host(report, 'client');
    const s = only(runRule(timeWaitFindings, report), 'host client');
    expect(s).toContain(`That is ${pct(client.peak.ephemeral.TIME_WAIT, 300)} of its 300-port ip_local_port_range (40000-40299).`);
  });

  it('address-in-use-restart: the listeners\' host, its peak and where the census counted it', () => {
    // The listeners closed first (server side); once a listener had closed, the census counted its port's
    // TIME_WAIT as ephemeral. Only the host and the numbers are asserted here: see the report on this fixture.
    const report = loadReportFixture('address-in-use-restart');
    const server = host(report, 'server');
    const out = runRule(timeWaitFindings, report);
    expect(out).toHaveLength(1);
    expect(out[0]).toContain(`TIME_WAIT piled up on host server: peak ${n(server.peak.total.TIME_WAIT)} (${n(server.peak.ephemeral.TIME_WAIT)} on ephemeral ports, ${n(server.peak.listen.TIME_WAIT)} on ports it listens on) at ${dur(server.peak.atMs.TIME_WAIT!)}.`);
    expect(about(out, 'client')).toEqual([]);
  });

  it('says nothing about a host with no TIME_WAIT and nothing served: the keep-alive proxy, RST closes', () => {
    const ka = loadReportFixture('proxy-keepalive-upstream');
    expect(host(ka, 'proxy').peak.total.TIME_WAIT).toBe(0);
    expect(about(runRule(timeWaitFindings, ka), 'proxy')).toEqual([]);

    const rst = loadReportFixture('rst-close');
    for (const h of Object.values(rst.hosts)) expect(h.peak.total.TIME_WAIT).toBe(0);
    expect(runRule(timeWaitFindings, rst)).toEqual([]);
  });

  it('keepalive-vs-close with the server closing: TIME_WAIT moves from client to server', () => {
    const off = loadReportFixture('keepalive-vs-close');
    const on = loadReportFixture('keepalive-vs-close--off-closer-server');
    expect(only(runRule(timeWaitFindings, off), 'TIME_WAIT piled up')).toContain('host client');
    const s = only(runRule(timeWaitFindings, on), 'TIME_WAIT piled up');
    expect(s).toContain(`host server: peak ${n(host(on, 'server').peak.total.TIME_WAIT)}`);
    expect(s).toContain('as their server side');
  });

  it('reacts to the fixture: no TIME_WAIT, no passive closes, a narrower range, a listening-side majority', () => {
    const noTw = loadReportFixture('short-conn');
    host(noTw, 'client').peak.total.TIME_WAIT = 0;
    expect(about(runRule(timeWaitFindings, noTw), 'client')).toEqual([]);

    const noPassive = loadReportFixture('short-conn');
    stats(noPassive, 'web')['peerClosedFirst'] = 0;
    expect(about(runRule(timeWaitFindings, noPassive), 'server')).toEqual([]);

    const narrow = loadReportFixture('short-conn');
    const client = host(narrow, 'client');
    client.sysctls['net.ipv4.ip_local_port_range'] = '40000 40499';
    expect(only(runRule(timeWaitFindings, narrow), 'host client')).toContain(`That is ${pct(client.peak.ephemeral.TIME_WAIT, 500)} of its 500-port ip_local_port_range (40000-40499).`);

    const listening = loadReportFixture('short-conn');
    const c = host(listening, 'client');
    c.peak.listen.TIME_WAIT = c.peak.ephemeral.TIME_WAIT + 1;
    const s = only(runRule(timeWaitFindings, listening), 'host client');
    expect(s).toContain('as their server side');
    expect(s).not.toContain('ip_local_port_range');
  });
});
