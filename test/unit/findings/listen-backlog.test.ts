import { describe, expect, it } from 'vitest';
import { listenBacklogFindings } from '../../../src/report/findings/listen-backlog.ts';
import { claimValue, host, loadReportFixture, runFindings, stats } from '../fixture.ts';

describe('listenBacklogFindings', () => {
  it("says a dropped SYN costs a retransmission timeout only where a client's kernel resent SYNs", () => {
    const report = loadReportFixture('listen-backlog');
    const said = () => runFindings(listenBacklogFindings, report).map((f) => f.text);
    expect(host(report, 'client').counters.delta['TcpExt.TCPSynRetrans']!).toBeGreaterThan(0);
    expect(said().every((t) => t.includes('A dropped SYN costs its client a retransmission timeout'))).toBe(true);
    host(report, 'client').counters.delta['TcpExt.TCPSynRetrans'] = 0;
    expect(said().some((t) => t.includes('retransmission timeout'))).toBe(false);
  });

  it("listen-backlog: each server's overflow, its queue depth against min(backlog, somaxconn), SYN_RECV, what its client saw", () => {
    const report = loadReportFixture('listen-backlog');
    const out = runFindings(listenBacklogFindings, report);
    expect(out.map((f) => [f.host, f.peers])).toEqual([
      ['server', ['client']],
      ['strict', ['client']],
    ]);
    for (const [actor, h, client] of [
      ['web', 'server', 'flood'],
      ['webstrict', 'strict', 'flood-strict'],
    ] as const) {
      const hr = host(report, h);
      const d = hr.counters.delta;
      const mine = out.filter((f) => f.host === h);
      expect(d['TcpExt.ListenOverflows']!).toBeGreaterThan(0);
      expect(claimValue(mine, h, 'counter', 'TcpExt.ListenOverflows')).toBe(d['TcpExt.ListenOverflows']);
      expect(claimValue(mine, h, 'counter', 'TcpExt.ListenDrops')).toBe(d['TcpExt.ListenDrops']);
      // The scenario: pause 1500ms, listen(64), somaxconn 8.
      expect(claimValue(mine, h, 'planned', 'acceptAfterMs')).toBe(1500);
      expect(claimValue(mine, h, 'planned', 'backlog')).toBe(64);
      expect(claimValue(mine, h, 'sysctl', 'net.core.somaxconn')).toBe(8);
      expect(claimValue(mine, h, 'acceptQueueAtResume')).toBe(stats(report, actor)['queuedAtResume']);
      expect(claimValue(mine, h, 'statePeak', 'SYN_RECV')).toBe(hr.peak.total.SYN_RECV + hr.peak.total.NEW_SYN_RECV);
      const cs = stats(report, client);
      const ch = host(report, 'client');
      expect(claimValue(mine, h, 'statePeak', 'SYN_SENT')).toBe(ch.peak.total.SYN_SENT);
      expect(claimValue(mine, h, 'counter', 'TcpExt.TCPSynRetrans')).toBe(
        ch.counters.delta['TcpExt.TCPSynRetrans'] ?? 0,
      );
      expect(claimValue(mine, h, 'answers')).toBe(cs['ok']);
      expect(claimValue(mine, h, 'attempts')).toBe(cs['attempts']);
      expect(claimValue(mine, h, 'latency', 'p50')).toBe(cs['latencyMs'].p50);
      expect(claimValue(mine, h, 'latency', 'p99')).toBe(cs['latencyMs'].p99);
    }
  });

  it('tcp_abort_on_overflow=1 on host strict only: it sent no RST here', () => {
    const report = loadReportFixture('listen-backlog');
    const out = runFindings(listenBacklogFindings, report);
    expect(claimValue(out, 'strict', 'counter', 'Tcp.OutRsts')).toBe(0);
    expect(() => claimValue(out, 'server', 'counter', 'Tcp.OutRsts')).toThrow();
  });

  it('says nothing without ListenOverflows: fd-limit, short-conn', () => {
    for (const name of ['fd-limit', 'short-conn'])
      expect(runFindings(listenBacklogFindings, loadReportFixture(name))).toEqual([]);
  });

  it('reacts to the fixture: RSTs from the strict host, a shallower queue, no overflow', () => {
    const rst = loadReportFixture('listen-backlog');
    host(rst, 'strict').counters.delta['Tcp.OutRsts'] = 7;
    expect(claimValue(runFindings(listenBacklogFindings, rst), 'strict', 'counter', 'Tcp.OutRsts')).toBe(7);

    const shallow = loadReportFixture('listen-backlog');
    stats(shallow, 'web')['queuedAtResume'] = 5;
    expect(claimValue(runFindings(listenBacklogFindings, shallow), 'server', 'acceptQueueAtResume')).toBe(5);

    const none = loadReportFixture('listen-backlog');
    host(none, 'server').counters.delta['TcpExt.ListenOverflows'] = 0;
    expect(runFindings(listenBacklogFindings, none).map((f) => f.host)).toEqual(['strict']);
  });
});
