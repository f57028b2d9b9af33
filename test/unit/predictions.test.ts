import { describe, expect, it } from 'vitest';
import { portBudget, sameParityPorts } from '../../src/core/port-budget.ts';
import { predict } from '../../src/report/predictions.ts';
import type { Report } from '../../src/report/report.ts';
import { host, loadReportFixture, n, reportFixtureNames, stats } from './fixture.ts';

const run = (report: Report) => predict(report.scenario.plan, report.hosts, report.actors);
/** connect() calls per second over the load, failures included: the rate the predictions use. */
const callRate = (flood: Record<string, any>) => (Number(flood['attempts']) / Number(flood['durationMs'])) * 1000;
const loadText = (flood: Record<string, any>, planned: number) =>
  `connect() called ${n(Math.round(callRate(flood)))} per s over the load (${n(flood['attempts'])} calls, failures included, in ${n(flood['durationMs'])} ms), as planned (${n(planned)} per s)`;
const ratio = (measured: number, predicted: number) => Math.round((measured / predicted) * 1000) / 1000;

describe('portBudget', () => {
  it("counts ip_local_port_range, in the sysctl's own form or LO-HI", () => {
    expect(portBudget({ 'net.ipv4.ip_local_port_range': '40000 40999' })).toEqual({
      budget: 1000,
      range: '40000-40999',
    });
    expect(
      portBudget({ 'net.ipv4.ip_local_port_range': '32768\t60999', 'net.ipv4.ip_local_reserved_ports': '' }),
    ).toEqual({ budget: 28232, range: '32768-60999' });
    expect(portBudget({ 'net.ipv4.ip_local_port_range': '40000-40000' })).toEqual({ budget: 1, range: '40000-40000' });
  });

  it('takes out ip_local_reserved_ports inside the range only: single ports, ranges, and ranges across an end', () => {
    const range = { 'net.ipv4.ip_local_port_range': '40000 40999' };
    expect(portBudget({ ...range, 'net.ipv4.ip_local_reserved_ports': '40500' })!.budget).toBe(999);
    expect(portBudget({ ...range, 'net.ipv4.ip_local_reserved_ports': '40000-40009,40500' })!.budget).toBe(989);
    // 39990-40004 overlaps the low end by 5 ports, 40995-41010 the high end by 5; 8080 and 50000-50010 lie outside.
    expect(
      portBudget({ ...range, 'net.ipv4.ip_local_reserved_ports': '8080,39990-40004,40995-41010,50000-50010' })!.budget,
    ).toBe(990);
    expect(portBudget({ ...range, 'net.ipv4.ip_local_reserved_ports': '30000-50000' })!.budget).toBe(0);
    expect(portBudget({ ...range, 'net.ipv4.ip_local_reserved_ports': '40000-40999' })).toEqual({
      budget: 0,
      range: '40000-40999',
    });
  });

  it('has no budget without a range', () => {
    expect(portBudget({})).toBeUndefined();
    expect(portBudget({ 'net.ipv4.ip_local_port_range': '' })).toBeUndefined();
  });

  it("matches every fixture host's own read-back range", () => {
    const report = loadReportFixture('short-conn');
    expect(portBudget(host(report, 'client').sysctls)).toEqual({ budget: 1000, range: '40000-40999' });
  });
});

describe('sameParityPorts', () => {
  it("counts the ports of lo-hi with lo's parity", () => {
    expect(sameParityPorts('40000-40199')).toBe(100);
    expect(sameParityPorts('40000-40999')).toBe(500);
    expect(sameParityPorts('40000-40998')).toBe(500);
    expect(sameParityPorts('40001-40999')).toBe(500);
    expect(sameParityPorts('40000-40000')).toBe(1);
    expect(sameParityPorts('40000-40001')).toBe(1);
    expect(sameParityPorts('40000-40002')).toBe(2);
    expect(sameParityPorts('32768 60999')).toBe(14116);
  });
});

describe('predict', () => {
  it('reproduces the predictions recorded in every fixture', () => {
    for (const name of reportFixtureNames()) {
      const report = loadReportFixture(name);
      expect(run(report), name).toEqual(report.predictions);
    }
  });

  it('short-conn: the port budget, exhaustion time = budget / connect rate, and TIME_WAIT on the client', () => {
    const report = loadReportFixture('short-conn');
    const flood = stats(report, 'flood');
    const { exhaustion, timeWait } = run(report)['flood']!;
    const rate = callRate(flood);
    const predictedMs = Math.round((1000 / rate) * 1000);
    const measuredMs = Math.round(flood['errors']['EADDRNOTAVAIL'].firstAtMs - flood['startedAtMs']);
    expect(exhaustion).toEqual({
      actor: 'flood',
      host: 'client',
      portBudget: 1000,
      portRange: '40000-40999',
      connectRate: Math.round(rate * 10) / 10,
      plannedRate: 300,
      predictedMs,
      measuredMs,
      ratio: ratio(measuredMs, predictedMs),
      basis: `the client closes first and keeps each port in TIME_WAIT for 60 s (tcp_tw_reuse=0 forbids connect() to reuse them): 1,000 ports / ${Math.round(rate)} per s (${loadText(flood, 300)})`,
    });
    const client = host(report, 'client');
    const predicted = Math.min(1000, Number(flood['connected']));
    expect(predicted).toBe(1000);
    expect(timeWait).toEqual({
      actor: 'flood',
      host: 'client',
      closer: 'client',
      predicted,
      measured: client.peak.ephemeral.TIME_WAIT,
      ratio: ratio(client.peak.ephemeral.TIME_WAIT, predicted),
      ofPortBudget: ratio(client.peak.ephemeral.TIME_WAIT, 1000),
      measuredOn: 'client>198.18.0.2:8080',
      basis:
        'the client closes first with a FIN (closeStyle graceful) and the server answers with its own; tcp_tw_reuse=0 forbids connect() to reuse them: min(connections closed = 1,000, 1,000 ports)',
    });
  });

  it('short-conn with tcp_tw_reuse=1: TIME_WAIT settles at the low-end-parity half, and no exhaustion is predicted', () => {
    // The run predicted the whole 1,000-port budget and measured 500 (ratio 0.5): the prediction ignored tcp_tw_reuse.
    const report = loadReportFixture('short-conn--tw-reuse-1');
    const flood = stats(report, 'flood');
    const client = host(report, 'client');
    expect(client.sysctls['net.ipv4.tcp_tw_reuse']).toBe('1');
    expect(client.sysctls['net.ipv4.tcp_tw_reuse_delay']).toBe('1000');
    const { exhaustion, timeWait } = run(report)['flood']!;
    expect(flood['errors']['EADDRNOTAVAIL']).toBeUndefined();
    // 1,000 ports at 300 per s last 3.3 s, longer than the 1 s after which an entry may be taken over.
    expect(exhaustion!.predictedMs).toBeNull();
    expect(exhaustion!.basis).toBe(
      `does not apply: tcp_tw_reuse=1 lets connect() take over an entry once it is older than tcp_tw_reuse_delay (1,000 ms), and at 300 per s the 1,000 ports last longer than that (${loadText(flood, 300)})`,
    );
    expect(exhaustion!.measuredMs).toBeNull();
    expect(exhaustion!.ratio).toBeNull();
    // 300 connections per s fit in the 500 ports of the low end's parity (500 per s at a 1 s delay): that half.
    expect(timeWait!.predicted).toBe(500);
    expect(timeWait!.measured).toBe(client.peak.ephemeral.TIME_WAIT);
    expect(timeWait!.ratio).toBe(1);
    expect(timeWait!.basis).toContain(
      'tcp_tw_reuse=1 lets connect() take over an entry once it is older than tcp_tw_reuse_delay (1,000 ms)',
    );
  });

  it('tcp_tw_reuse=1 reacts to its delay, to timestamps, and to tcp_tw_reuse=2 on a veth', () => {
    const slow = loadReportFixture('short-conn--tw-reuse-1');
    host(slow, 'client').sysctls['net.ipv4.tcp_tw_reuse_delay'] = '3000';
    const rate = callRate(stats(slow, 'flood'));
    // The half cycles 500 / 3 s = 167 per s, fewer than 300: connect() spills into the other half and, taking
    // free ports as they come, fills all 1,000 (it was min(budget, max(half, rate x delay)) = 900 before).
    expect(run(slow)['flood']!.timeWait!.predicted).toBe(1000);
    // 1,000 ports fill in 3.3 s, after the first entries are 3 s old: they are taken over, no exhaustion.
    expect(run(slow)['flood']!.exhaustion!.predictedMs).toBeNull();
    // With a 5 s delay the ports fill before any entry may be taken over.
    host(slow, 'client').sysctls['net.ipv4.tcp_tw_reuse_delay'] = '5000';
    expect(run(slow)['flood']!.exhaustion!.predictedMs).toBe(Math.round((1000 / rate) * 1000));
    expect(run(slow)['flood']!.timeWait!.predicted).toBe(1000);

    const noTs = loadReportFixture('short-conn--tw-reuse-1');
    host(noTs, 'server').sysctls['net.ipv4.tcp_timestamps'] = '0';
    const p = run(noTs)['flood']!;
    expect(p.timeWait!.predicted).toBe(1000);
    expect(p.timeWait!.basis).toContain(
      'tcp_tw_reuse=1 needs TCP timestamps on both ends, and tcp_timestamps=0 turned them off',
    );
    expect(p.exhaustion!.predictedMs).not.toBeNull();

    const two = run(loadReportFixture('short-conn--tw-reuse-2'))['flood']!;
    expect(two.timeWait!.predicted).toBe(1000);
    expect(two.timeWait!.basis).toContain('tcp_tw_reuse=2 reuses on loopback only, and this destination is not');
  });

  it("server-close: the server holds TIME_WAIT, bounded by the client's same-parity ports", () => {
    const report = loadReportFixture('server-close');
    const flood = stats(report, 'flood');
    const { exhaustion, timeWait } = run(report)['flood']!;
    expect(exhaustion!.portBudget).toBe(200);
    expect(exhaustion!.measuredMs).toBeNull();
    // The server closes first: the client's ports are free as each connection ends, so no exhaustion is predicted.
    expect(exhaustion!.predictedMs).toBeNull();
    expect(exhaustion!.basis).toMatch(/^does not apply: the server closes first/);
    const byRate = Number(flood['connected']);
    const server = host(report, 'server');
    expect(timeWait).toEqual({
      actor: 'flood',
      host: 'server',
      closer: 'server',
      predicted: Math.min(sameParityPorts('40000-40199'), byRate),
      measured: server.peak.listen.TIME_WAIT,
      ratio: ratio(server.peak.listen.TIME_WAIT, Math.min(100, byRate)),
      ofPortBudget: null,
      measuredOn: 'server<198.18.0.1',
      basis: `the server closes first with a FIN (closeStyle graceful) and the client answers with its own; a new SYN takes over the server's entry on the same 4-tuple (RFC 6191), so min(connections closed = ${n(byRate)}, the client's 100 ports of its range's low-end parity)`,
    });
  });

  it('tw-bucket-overflow: tcp_max_tw_buckets caps the predicted TIME_WAIT', () => {
    const report = loadReportFixture('tw-bucket-overflow');
    const tw = run(report)['flood']!.timeWait!;
    expect(host(report, 'client').sysctls['net.ipv4.tcp_max_tw_buckets']).toBe('100');
    expect(tw.predicted).toBe(100);
    expect(tw.basis).toContain('capped by tcp_max_tw_buckets 100');
    // The census read 101 once (a socket listed twice); the kernel's sockstat tw says 100, and so does the measurement.
    expect(host(report, 'client').peak.ephemeral.TIME_WAIT).toBe(101);
    expect(tw.measured).toBe(100);
    expect(tw.ofPortBudget).toBe(ratio(100, 300));
  });

  it('predicts no TIME_WAIT where a side closes by RST or never closes', () => {
    const cases: [string, string[]][] = [
      ['rst-close', ['rst-flood', 'flood']],
      ['close-wait-leak', ['flood']],
      ['fin-wait-2', ['flood', 'shut-flood']],
      ['reset-and-broken-pipe', ['upload', 'late-writer']],
    ];
    for (const [name, actors] of cases) {
      const p = run(loadReportFixture(name));
      for (const a of actors) {
        expect(p[a]!.timeWait!.predicted, `${name} ${a}`).toBe(0);
        expect(p[a]!.timeWait!.ratio, `${name} ${a}`).toBeNull();
        // Nobody ends in TIME_WAIT: no row says "client closes first" or "server closes first".
        expect(p[a]!.timeWait!.closer, `${name} ${a}`).toBe('none');
      }
    }
  });

  it('held open (closeStyle never on both sides): closer none, and the ports run out on open connections', () => {
    const p = run(loadReportFixture('short-conn--held-open'))['flood']!;
    expect(p.timeWait!.closer).toBe('none');
    expect(p.timeWait!.predicted).toBe(0);
    expect(p.timeWait!.basis).toBe(
      'the client is to close first and its closeStyle is never: no FIN, each connection held open',
    );
    expect(p.exhaustion!.predictedMs).toBe(2000);
    expect(p.exhaustion!.basis).toBe(
      `the client never closes (closeStyle never): every connection keeps its port, 200 ports / 100 per s (${loadText(stats(loadReportFixture('short-conn--held-open'), 'flood'), 100)})`,
    );
  });

  it('fixed local port: one 4-tuple, so one TIME_WAIT; behind NAT: does not apply', () => {
    const fixed = run(loadReportFixture('fixed-local-port'));
    for (const a of ['from-noreuse', 'from-reuse', 'from-srvclose']) expect(fixed[a]!.timeWait!.predicted, a).toBe(1);
    expect(fixed['from-noreuse']!.timeWait!.ofPortBudget).toBeNull();
    const nat = loadReportFixture('nat-single-source');
    const p = run(nat)['from-c1']!.timeWait!;
    expect(p.predicted).toBeNull();
    expect(p.basis).toBe(
      "does not apply: behind gateway gw, the server sees every client under the gateway's address, with ports the gateway chose",
    );
    expect(p.measured).toBe(host(nat, 'server').peak.peers.listen['198.18.1.1']!.TIME_WAIT);
  });

  it('no exhaustion prediction for a flood that binds first; its TIME_WAIT prediction stays', () => {
    const fixed = run(loadReportFixture('fixed-local-port'));
    for (const a of ['from-noreuse', 'from-reuse', 'from-nots', 'from-srvclose']) {
      expect(fixed[a]!.exhaustion).toBeUndefined();
      expect(fixed[a]!.timeWait).toBeDefined();
    }
    const bound = run(loadReportFixture('bind-before-connect'));
    expect(bound['bound-a']!.exhaustion).toBeUndefined();
    expect(bound['plain-a']!.exhaustion!.portBudget).toBe(500);
  });

  it('only short-conn clients are predicted: not the keep-alive client', () => {
    expect(Object.keys(run(loadReportFixture('keepalive-vs-close')))).toEqual(['flood']);
  });

  it('reacts to the fixture: reserved ports shrink the budget and move the predicted time; a server that never closes', () => {
    const report = loadReportFixture('short-conn');
    host(report, 'client').sysctls['net.ipv4.ip_local_reserved_ports'] = '40000-40099';
    const rate = callRate(stats(report, 'flood'));
    const { exhaustion, timeWait } = run(report)['flood']!;
    expect(exhaustion!.portBudget).toBe(900);
    expect(exhaustion!.predictedMs).toBe(Math.round((900 / rate) * 1000));
    expect(timeWait!.predicted).toBe(900);

    const never = loadReportFixture('short-conn');
    (never.scenario.plan.actors['web']!.options as Record<string, unknown>)['closeStyle'] = 'never';
    expect(run(never)['flood']!.timeWait!.predicted).toBe(0);
  });
});
