import { describe, expect, it } from 'vitest';
import { counterFindings } from '../../../src/report/findings/counters.ts';
import { host, loadReportFixture, n, only, runRule } from '../fixture.ts';

const KEYS_SEEN = ['TcpExt.TW', 'TcpExt.TWRecycled', 'TcpExt.TCPTimeWaitOverflow', 'Tcp.ActiveOpens', 'Tcp.PassiveOpens', 'Tcp.OutRsts'];

describe('counterFindings', () => {
  it('short-conn: each host\'s moved counters and its sockstat tw peak', () => {
    const report = loadReportFixture('short-conn');
    const out = runRule(counterFindings, report);
    expect(out).toHaveLength(2);
    const client = host(report, 'client');
    const c = only(out, 'host client');
    expect(c).toMatch(/^Kernel counters on host client: /);
    expect(c).toContain(`TcpExt.TW +${n(client.counters.delta['TcpExt.TW']!)}`);
    expect(c).toContain(`Tcp.ActiveOpens +${n(client.counters.delta['Tcp.ActiveOpens']!)}`);
    expect(c).toContain(`the kernel's own TIME_WAIT count (sockstat tw) peaked at ${n(client.peak.sockstatTw)}.`);
    const server = host(report, 'server');
    const s = only(out, 'host server');
    expect(s).toContain(`Tcp.PassiveOpens +${n(server.counters.delta['Tcp.PassiveOpens']!)}`);
    // A key counter that did not move is not named.
    expect(server.counters.delta['TcpExt.TW']).toBe(0);
    expect(s).not.toContain('TcpExt.TW ');
  });

  it('names every key counter that moved, with its own delta, across fixtures', () => {
    for (const name of ['tw-bucket-overflow', 'haproxy-short-upstream--source-ports', 'rst-close']) {
      const report = loadReportFixture(name);
      const out = runRule(counterFindings, report);
      for (const [h, hr] of Object.entries(report.hosts)) {
        const moved = KEYS_SEEN.filter((k) => hr.counters.delta[k]);
        const mine = out.filter((s) => s.startsWith(`Kernel counters on host ${h}:`));
        if (!moved.length) continue;
        expect(mine).toHaveLength(1);
        for (const k of moved) expect(mine[0]).toContain(`${k} +${n(hr.counters.delta[k]!)}`);
      }
    }
  });

  it('reacts to the fixture: a host whose counters did not move gets no sentence; a negative delta has no plus', () => {
    const report = loadReportFixture('short-conn');
    const server = host(report, 'server');
    for (const k of Object.keys(server.counters.delta)) server.counters.delta[k] = 0;
    expect(runRule(counterFindings, report).some((s) => s.includes('host server'))).toBe(false);

    const neg = loadReportFixture('short-conn');
    host(neg, 'client').counters.delta['TcpExt.TW'] = -3;
    expect(only(runRule(counterFindings, neg), 'host client')).toContain('TcpExt.TW -3');
  });
});
