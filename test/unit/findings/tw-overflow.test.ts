import { describe, expect, it } from 'vitest';
import { twOverflowFindings } from '../../../src/report/findings/tw-overflow.ts';
import { claimValue, host, loadReportFixture, runFindings, stats } from '../fixture.ts';

describe('twOverflowFindings', () => {
  it('tw-bucket-overflow: the cap, the closes that skipped TIME_WAIT, and ports free at once', () => {
    const report = loadReportFixture('tw-bucket-overflow');
    const d = host(report, 'client').counters.delta;
    const out = runFindings(twOverflowFindings, report);
    expect(out.map((f) => [f.rule, f.host, f.peers])).toEqual([['tw-overflow', 'client', ['server']]]);
    expect(claimValue(out, 'client', 'counter', 'TcpExt.TCPTimeWaitOverflow')).toBe(d['TcpExt.TCPTimeWaitOverflow']);
    expect(d['TcpExt.TCPTimeWaitOverflow']).toBeGreaterThan(0);
    expect(claimValue(out, 'client', 'counter', 'TcpExt.TW')).toBe(d['TcpExt.TW']);
    expect(claimValue(out, 'client', 'sockstatTwPeak')).toBe(100);
    // The scenario's buckets=100, as read back from the kernel.
    expect(claimValue(out, 'client', 'sysctl', 'net.ipv4.tcp_max_tw_buckets')).toBe(100);
    const flood = stats(report, 'flood');
    expect(claimValue(out, 'client', 'connections')).toBe(flood['connected']);
    expect(flood['connected']).toBeGreaterThan(300);
    // The scenario's ports 40000-40299.
    expect(claimValue(out, 'client', 'portBudget')).toBe(300);
    expect(claimValue(out, 'client', 'errors', 'EADDRNOTAVAIL')).toBe(flood['errors']?.['EADDRNOTAVAIL']?.count ?? 0);
  });

  it('says nothing without TcpExt.TCPTimeWaitOverflow: short-conn, server-close', () => {
    for (const name of ['short-conn', 'server-close']) {
      const report = loadReportFixture(name);
      for (const h of Object.values(report.hosts)) expect(h.counters.delta['TcpExt.TCPTimeWaitOverflow'] ?? 0).toBe(0);
      expect(runFindings(twOverflowFindings, report)).toEqual([]);
    }
  });

  it('reacts to the fixture: no overflow, or no more connections than ports', () => {
    const none = loadReportFixture('tw-bucket-overflow');
    host(none, 'client').counters.delta['TcpExt.TCPTimeWaitOverflow'] = 0;
    expect(runFindings(twOverflowFindings, none)).toEqual([]);

    const few = loadReportFixture('tw-bucket-overflow');
    stats(few, 'flood')['connected'] = 300;
    const [f] = runFindings(twOverflowFindings, few);
    expect(f!.peers).toEqual([]);
    expect(f!.claims.some((c) => c.name === 'portBudget')).toBe(false);
  });
});
