import { describe, expect, it } from 'vitest';
import { fixedLocalPortFindings } from '../../../src/report/findings/fixed-local-port.ts';
import { host, loadReportFixture, n, only, runRule, stats } from '../fixture.ts';

describe('fixedLocalPortFindings', () => {
  it('fixed-local-port: one sentence per client host, with its sysctls, its connections from port 50000 and who closed first', () => {
    const report = loadReportFixture('fixed-local-port');
    const out = runRule(fixedLocalPortFindings, report);
    expect(out).toHaveLength(4);
    for (const h of ['noreuse', 'reuse', 'nots', 'srvclose']) {
      const st = stats(report, `from-${h}`);
      const sys = host(report, h).sysctls;
      const closer = st['options'].closer;
      const port = closer === 'client' ? 8080 : 8081;
      const s = only(out, `Host ${h} (`);
      // The scenario: port 50000, 10/s (one connection every 100 ms), 30 connections.
      // Who closed first is what the kernels counted: the client's own TcpExt.TW, or the server's for srvclose.
      const closing = closer === 'client'
        ? `host ${h} closing first (first closes counted by each kernel: host ${h} ${n(host(report, h).counters.delta['TcpExt.TW']!)} (TcpExt.TW +${n(host(report, h).counters.delta['TcpExt.TW']!)}), host server at least 0`
        : 'host server closing first (first closes counted by each kernel: host server 30 (TcpExt.TW +30), host srvclose 0 (TcpExt.TW +0))';
      expect(s).toContain(`Host ${h} (tcp_timestamps=${sys['net.ipv4.tcp_timestamps']}, tcp_tw_reuse=${sys['net.ipv4.tcp_tw_reuse']}) connected ${n(st['connected'])} of ${n(st['attempts'])} times from the same local port 50000 to 198.18.0.1:${port}, ${closing}`);
      expect(s).toContain('one connection every 100 ms.');
      expect(st['attempts']).toBe(30);
      expect(s).toContain('What would change it: let the kernel choose the port');
    }
  });

  it('noreuse and reuse: the previous TIME_WAIT taken over (TWRecycled), sooner than tcp_tw_reuse_delay, and with tcp_tw_reuse=0 too', () => {
    const report = loadReportFixture('fixed-local-port');
    const out = runRule(fixedLocalPortFindings, report);
    for (const h of ['noreuse', 'reuse']) {
      const recycled = host(report, h).counters.delta['TcpExt.TWRecycled']!;
      expect(recycled).toBeGreaterThan(0);
      const s = only(out, `Host ${h} (`);
      expect(s).toContain(`${n(recycled)} connections took over the previous connection's TIME_WAIT on the same 4-tuple (TcpExt.TWRecycled +${n(recycled)}).`);
      expect(s).toContain(`sooner than tcp_tw_reuse_delay (${host(report, h).sysctls['net.ipv4.tcp_tw_reuse_delay']} ms)`);
      expect(s).toContain('bind() itself never failed: libuv sets SO_REUSEADDR');
    }
    expect(only(out, 'Host noreuse (')).toContain('a TIME_WAIT entry that carries a timestamp although tcp_tw_reuse=0 and sooner than');
    expect(only(out, 'Host reuse (')).not.toContain('although tcp_tw_reuse=0');
  });

  it('nots: without timestamps, EADDRNOTAVAIL for every connection after the first', () => {
    const report = loadReportFixture('fixed-local-port');
    const e = stats(report, 'from-nots')['errors']['EADDRNOTAVAIL'];
    const s = only(runRule(fixedLocalPortFindings, report), 'Host nots (');
    expect(host(report, 'nots').counters.delta['TcpExt.TWRecycled']).toBe(0);
    expect(s).not.toContain('took over');
    expect(s).toContain(`connect() failed with EADDRNOTAVAIL ${n(e.count)} times: the 4-tuple was still taken: without TCP timestamps a TIME_WAIT entry cannot be taken over at all`);
  });

  it('srvclose: the server held the TIME_WAIT and accepted every SYN on the same 4-tuple', () => {
    const report = loadReportFixture('fixed-local-port');
    const s = only(runRule(fixedLocalPortFindings, report), 'Host srvclose (');
    expect(s).toContain(`Its own ports stayed free (TIME_WAIT on host srvclose peaked at ${n(host(report, 'srvclose').peak.total.TIME_WAIT)}): the server held each TIME_WAIT`);
    expect(stats(report, 'from-srvclose')['connected']).toBe(stats(report, 'from-srvclose')['attempts']);
    expect(s).toContain('The server accepted all of them, ending its TIME_WAIT entry each time');
    expect(s).not.toContain('EADDRNOTAVAIL');
  });

  it('says nothing where no client binds a fixed port', () => {
    for (const name of ['short-conn', 'bind-before-connect', 'server-close']) expect(runRule(fixedLocalPortFindings, loadReportFixture(name))).toEqual([]);
  });

  it('speaks of who closed first from the counters, not from the plan: no first close counted, no mechanism claimed', () => {
    const report = loadReportFixture('fixed-local-port');
    host(report, 'noreuse').counters.delta['TcpExt.TW'] = 0;
    host(report, 'noreuse').peak.peers.ephemeral = {};
    const s = only(runRule(fixedLocalPortFindings, report), 'Host noreuse (');
    expect(s).toContain('neither end closing first with a FIN during the measurement (no first close counted on either host)');
    expect(s).not.toContain('took over');
  });

  it('reacts to the fixture: no takeover counted, a refused connection at the server-closing client', () => {
    const none = loadReportFixture('fixed-local-port');
    host(none, 'reuse').counters.delta['TcpExt.TWRecycled'] = 0;
    expect(only(runRule(fixedLocalPortFindings, none), 'Host reuse (')).not.toContain('took over');

    const lost = loadReportFixture('fixed-local-port');
    const st = stats(lost, 'from-srvclose');
    st['connected'] = Number(st['attempts']) - 1;
    st['errors'] = { EADDRNOTAVAIL: { count: 1, syscalls: { connect: 1 }, firstAtMs: 0 } };
    const s = only(runRule(fixedLocalPortFindings, lost), 'Host srvclose (');
    expect(s).not.toContain('The server accepted all of them');
    expect(s).toContain('EADDRNOTAVAIL 1 times: the client\'s previous connection on the port had not finished closing (LAST_ACK).');
  });
});
