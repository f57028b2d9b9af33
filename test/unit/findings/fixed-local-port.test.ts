import { describe, expect, it } from 'vitest';
import { fixedLocalPortFindings } from '../../../src/report/findings/fixed-local-port.ts';
import { claimed, claimValue, host, loadReportFixture, runFindings, stats } from '../fixture.ts';

const mine = (out: ReturnType<typeof runFindings>, h: string) => out.filter((f) => f.host === h);

describe('fixedLocalPortFindings', () => {
  it('fixed-local-port: one finding per client host, with its sysctls, its connections from port 50000 and who closed first', () => {
    const report = loadReportFixture('fixed-local-port');
    const out = runFindings(fixedLocalPortFindings, report);
    expect(out.map((f) => [f.host, f.peers])).toEqual([
      ['noreuse', ['server']],
      ['reuse', ['server']],
      ['nots', ['server']],
      ['srvclose', ['server']],
    ]);
    for (const h of ['noreuse', 'reuse', 'nots', 'srvclose']) {
      const st = stats(report, `from-${h}`);
      const sys = host(report, h).sysctls;
      expect(claimValue(out, h, 'connections')).toBe(st['connected']);
      // The scenario: 10/s, 30 connections.
      expect(claimValue(out, h, 'attempts')).toBe(30);
      expect(claimValue(out, h, 'planned', 'ratePerSec')).toBe(10);
      expect(claimValue(out, h, 'sysctl', 'net.ipv4.tcp_timestamps')).toBe(Number(sys['net.ipv4.tcp_timestamps']));
      expect(claimValue(out, h, 'sysctl', 'net.ipv4.tcp_tw_reuse')).toBe(Number(sys['net.ipv4.tcp_tw_reuse']));
      // Who closed first is what the kernels counted: the client's own TcpExt.TW, or the server's for srvclose.
      const shares = claimed(mine(out, h), 'firstCloses').map((c) => [c.claim.end, c.value]);
      if (h === 'srvclose')
        expect(shares).toEqual([
          ['client', 0],
          ['server', 30],
        ]);
      else expect(shares[0]).toEqual(['client', host(report, h).counters.delta['TcpExt.TW']]);
    }
  });

  it('noreuse and reuse: the previous TIME_WAIT taken over (TWRecycled), with its delay claimed', () => {
    const report = loadReportFixture('fixed-local-port');
    const out = runFindings(fixedLocalPortFindings, report);
    for (const h of ['noreuse', 'reuse']) {
      const recycled = host(report, h).counters.delta['TcpExt.TWRecycled']!;
      expect(recycled).toBeGreaterThan(0);
      expect(claimValue(out, h, 'counter', 'TcpExt.TWRecycled')).toBe(recycled);
      expect(claimValue(out, h, 'sysctl', 'net.ipv4.tcp_tw_reuse_delay')).toBe(
        Number(host(report, h).sysctls['net.ipv4.tcp_tw_reuse_delay']),
      );
      expect(claimed(mine(out, h), 'errors', 'EADDRINUSE')).toEqual([]);
    }
  });

  it('nots: without timestamps, EADDRNOTAVAIL for every connection after the first', () => {
    const report = loadReportFixture('fixed-local-port');
    const e = stats(report, 'from-nots')['errors']['EADDRNOTAVAIL'];
    const out = runFindings(fixedLocalPortFindings, report);
    expect(claimValue(out, 'nots', 'counter', 'TcpExt.TWRecycled')).toBe(0);
    expect(claimValue(out, 'nots', 'errors', 'EADDRNOTAVAIL')).toBe(e.count);
    expect(claimValue(out, 'nots', 'sysctl', 'net.ipv4.tcp_timestamps')).toBe(0);
  });

  it('srvclose: the server held the TIME_WAIT and accepted every SYN on the same 4-tuple', () => {
    const report = loadReportFixture('fixed-local-port');
    const out = runFindings(fixedLocalPortFindings, report);
    expect(claimValue(out, 'srvclose', 'timeWaitPeak')).toBe(host(report, 'srvclose').peak.total.TIME_WAIT);
    expect(claimValue(out, 'srvclose', 'connections')).toBe(claimValue(out, 'srvclose', 'attempts'));
    expect(claimed(mine(out, 'srvclose'), 'errors')).toEqual([]);
  });

  it('says nothing where no client binds a fixed port', () => {
    for (const name of ['short-conn', 'bind-before-connect', 'server-close'])
      expect(runFindings(fixedLocalPortFindings, loadReportFixture(name))).toEqual([]);
  });

  it('speaks of who closed first from the counters, not from the plan: no first close counted, no closer claimed', () => {
    const report = loadReportFixture('fixed-local-port');
    host(report, 'noreuse').counters.delta['TcpExt.TW'] = 0;
    host(report, 'noreuse').peak.peers.ephemeral = {};
    const out = mine(runFindings(fixedLocalPortFindings, report), 'noreuse');
    expect(claimed(out, 'firstCloses')).toEqual([]);
    expect(claimed(out, 'counter', 'TcpExt.TWRecycled')).toEqual([]);
  });

  it('reacts to the fixture: a refused connection at the server-closing client', () => {
    const lost = loadReportFixture('fixed-local-port');
    const st = stats(lost, 'from-srvclose');
    st['connected'] = Number(st['attempts']) - 1;
    st['errors'] = { EADDRNOTAVAIL: { count: 1, syscalls: { connect: 1 }, firstAtMs: 0 } };
    const out = runFindings(fixedLocalPortFindings, lost);
    expect(claimValue(out, 'srvclose', 'errors', 'EADDRNOTAVAIL')).toBe(1);
    expect(claimValue(out, 'srvclose', 'connections')).toBe(29);
  });
});
