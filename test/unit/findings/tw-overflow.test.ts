import { describe, expect, it } from 'vitest';
import { twOverflowFindings } from '../../../src/report/findings/tw-overflow.ts';
import { host, loadReportFixture, n, runRule, stats } from '../fixture.ts';

describe('twOverflowFindings', () => {
  it('tw-bucket-overflow: the cap, the closes that skipped TIME_WAIT, and ports free at once', () => {
    const report = loadReportFixture('tw-bucket-overflow');
    const client = host(report, 'client');
    const d = client.counters.delta;
    const overflow = d['TcpExt.TCPTimeWaitOverflow']!;
    expect(overflow).toBeGreaterThan(0);
    const out = runRule(twOverflowFindings, report);
    expect(out).toHaveLength(1);
    const [s] = out as [string];
    expect(s).toContain(`On host client, TIME_WAIT hit its cap: the kernel's own count (sockstat tw) peaked at ${n(client.peak.sockstatTw)}`);
    // The scenario's buckets=100, as read back from the kernel.
    expect(client.sysctls['net.ipv4.tcp_max_tw_buckets']).toBe('100');
    expect(s).toContain('net.ipv4.tcp_max_tw_buckets = 100;');
    expect(s).toContain(`${n(d['TcpExt.TW']!)} connections entered TIME_WAIT (TcpExt.TW) and ${n(overflow)} more closed without it (TcpExt.TCPTimeWaitOverflow +${n(overflow)})`);
    expect(s).toContain('a late segment of the old connection can now land in a new one');
    const flood = stats(report, 'flood');
    expect(Number(flood['connected'])).toBeGreaterThan(300);
    expect(s).toContain(`Their ports were free at once: actor flood made ${n(flood['connected'])} connections through a 300-port range (40000-40299) with ${n(flood['errors']?.['EADDRNOTAVAIL']?.count ?? 0)} EADDRNOTAVAIL.`);
    expect(s).toContain('What would change it: a larger tcp_max_tw_buckets');
  });

  it('says nothing without TcpExt.TCPTimeWaitOverflow: short-conn, server-close', () => {
    for (const name of ['short-conn', 'server-close']) {
      const report = loadReportFixture(name);
      for (const h of Object.values(report.hosts)) expect(h.counters.delta['TcpExt.TCPTimeWaitOverflow'] ?? 0).toBe(0);
      expect(runRule(twOverflowFindings, report)).toEqual([]);
    }
  });

  it('reacts to the fixture: no overflow, or no more connections than ports', () => {
    const none = loadReportFixture('tw-bucket-overflow');
    host(none, 'client').counters.delta['TcpExt.TCPTimeWaitOverflow'] = 0;
    expect(runRule(twOverflowFindings, none)).toEqual([]);

    const few = loadReportFixture('tw-bucket-overflow');
    stats(few, 'flood')['connected'] = 300;
    const [s] = runRule(twOverflowFindings, few) as [string];
    expect(s).not.toContain('Their ports were free at once');
    expect(s).toContain('What would change it');
  });
});
