import { describe, expect, it } from 'vitest';
import { listenBacklogFindings } from '../../../src/report/findings/listen-backlog.ts';
import { dur, host, loadReportFixture, n, only, runRule, stats } from '../fixture.ts';

describe('listenBacklogFindings', () => {
  it('listen-backlog: each server\'s overflow, its queue depth against min(backlog, somaxconn), SYN_RECV, what its client saw', () => {
    const report = loadReportFixture('listen-backlog');
    const out = runRule(listenBacklogFindings, report);
    expect(out).toHaveLength(2);
    for (const [actor, h, client] of [['web', 'server', 'flood'], ['webstrict', 'strict', 'flood-strict']] as const) {
      const hr = host(report, h);
      const d = hr.counters.delta;
      const s = only(out, `actor ${actor} on host ${h}`);
      expect(d['TcpExt.ListenOverflows']!).toBeGreaterThan(0);
      expect(s).toContain(`The accept queue of actor ${actor} on host ${h} (port 8080) overflowed: TcpExt.ListenOverflows +${n(d['TcpExt.ListenOverflows']!)}, ListenDrops +${n(d['TcpExt.ListenDrops']!)}.`);
      // The scenario: pause 1500ms, listen(64), somaxconn 8.
      expect(s).toContain(`It accepted nothing for its first ${dur(1500)}`);
      const depth = Number(stats(report, actor)['queuedAtResume']);
      expect(s).toContain(`its accept queue held ${n(depth)} connections (rx_queue of the listening socket in /proc/net/tcp), against listen(64) capped by net.core.somaxconn 8 = 8`);
      expect(s.includes('this kernel admits one more than the backlog')).toBe(depth === 9);
      const synRecv = hr.peak.total.SYN_RECV + hr.peak.total.NEW_SYN_RECV;
      if (synRecv === 0) expect(s).toContain(`With the queue full the kernel dropped new SYNs outright: SYN_RECV peaked at 0 on host ${h}`);
      else expect(s).toContain(`SYN_RECV peaked at ${n(synRecv)} on host ${h}: handshakes whose final ACK met a full queue were dropped and their SYN-ACK resent.`);
      const cs = stats(report, client);
      const ch = host(report, 'client');
      expect(s).toContain(`Client ${client} (host client: SYN_SENT peak ${n(ch.peak.total.SYN_SENT)} and TcpExt.TCPSynRetrans +${n(ch.counters.delta['TcpExt.TCPSynRetrans'] ?? 0)} for the whole host) got ${n(cs['ok'])} of ${n(cs['attempts'])} answers, p50 ${Math.round(cs['latencyMs'].p50)} ms, p99 ${Math.round(cs['latencyMs'].p99)} ms, no errors`);
      expect(s).toContain('a dropped SYN costs the client a retransmission timeout');
    }
  });

  it('tcp_abort_on_overflow=1 on host strict only: it sent no RST here', () => {
    const report = loadReportFixture('listen-backlog');
    const out = runRule(listenBacklogFindings, report);
    expect(host(report, 'strict').counters.delta['Tcp.OutRsts']).toBe(0);
    expect(only(out, 'host strict (port')).toContain('net.ipv4.tcp_abort_on_overflow=1 on host strict sent no RST (Tcp.OutRsts +0)');
    expect(only(out, 'host server (port')).not.toContain('tcp_abort_on_overflow');
  });

  it('says nothing without ListenOverflows: fd-limit, short-conn', () => {
    for (const name of ['fd-limit', 'short-conn']) expect(runRule(listenBacklogFindings, loadReportFixture(name))).toEqual([]);
  });

  it('reacts to the fixture: RSTs from the strict host, a shallower queue, no overflow', () => {
    const rst = loadReportFixture('listen-backlog');
    host(rst, 'strict').counters.delta['Tcp.OutRsts'] = 7;
    expect(only(runRule(listenBacklogFindings, rst), 'host strict (port')).toContain('answered overflowing handshakes with an RST (Tcp.OutRsts +7): its clients see ECONNRESET instead of waiting.');

    const shallow = loadReportFixture('listen-backlog');
    stats(shallow, 'web')['queuedAtResume'] = 5;
    expect(only(runRule(listenBacklogFindings, shallow), 'host server (port')).toContain('= 8 (not full: 5 of 8).');

    const none = loadReportFixture('listen-backlog');
    host(none, 'server').counters.delta['TcpExt.ListenOverflows'] = 0;
    const out = runRule(listenBacklogFindings, none);
    expect(out).toHaveLength(1);
    expect(out[0]).toContain('actor webstrict');
  });
});
