import { describe, expect, it } from 'vitest';
import { resetFindings } from '../../../src/report/findings/resets.ts';
import { citing, claimed, claimValue, host, loadReportFixture, runFindings, stats } from '../fixture.ts';

const values = (findings: ReturnType<typeof runFindings>, name: string, of?: string) =>
  claimed(findings, name as never, of).map((c) => c.value);

describe('resetFindings', () => {
  it('rst-close: each SO_LINGER 0 closer, with its kernel counters and no TIME_WAIT', () => {
    const report = loadReportFixture('rst-close');
    const out = runFindings(resetFindings, report);
    expect(out).toHaveLength(4);
    // rst-flood is a load actor with closeStyle rst: each ok connection was reset; rst-web counts its own.
    for (const [h, actor, count, peer] of [
      ['rstclient', 'rst-flood', Number(stats(report, 'rst-flood')['ok']), 'server'],
      ['rstserver', 'rst-web', Number(stats(report, 'rst-web')['resetsSent']), 'client'],
    ] as const) {
      const d = host(report, h).counters.delta;
      const mine = citing(out, actor).filter((f) => f.claims.some((c) => c.name === 'resetsSent'));
      expect(mine.map((f) => [f.host, f.peers])).toEqual([[h, [peer]]]);
      expect(count).toBeGreaterThan(0);
      expect(values(mine, 'resetsSent')).toEqual([count]);
      expect(values(mine, 'counter', 'Tcp.OutRsts')).toEqual([d['Tcp.OutRsts']]);
      expect(values(mine, 'counter', 'TcpExt.TCPAbortOnData')).toEqual([d['TcpExt.TCPAbortOnData']]);
      expect(values(mine, 'timeWaitPeak')).toEqual([host(report, h).peak.total.TIME_WAIT]);
    }
  });

  it('rst-close: ECONNRESET at each peer, and resets that node saw as EOF', () => {
    const report = loadReportFixture('rst-close');
    const out = runFindings(resetFindings, report);
    const web = stats(report, 'web')['errors']['ECONNRESET'];
    const w = citing(out, 'web');
    expect(w.map((f) => [f.host, f.peers])).toEqual([['server', ['rstclient']]]);
    expect(values(w, 'errors', 'ECONNRESET')).toEqual([web.count]);
    expect(values(w, 'syscallErrors', 'ECONNRESET read')).toEqual([web.syscalls.read]);
    expect(values(w, 'counter', 'Tcp.EstabResets')).toEqual([host(report, 'server').counters.delta['Tcp.EstabResets']]);

    const flood = stats(report, 'flood');
    const f = citing(out, 'flood');
    expect(f.map((x) => x.peers)).toEqual([['rstserver']]);
    expect(values(f, 'errors', 'ECONNRESET')).toEqual([flood['errors']['ECONNRESET'].count]);
    expect(flood['errors']['ECONNRESET'].count + flood['peerClosed']).toBe(flood['connected']);
    expect(values(f, 'peerClosed')).toEqual([flood['peerClosed']]);
    expect(values(f, 'connections')).toEqual([flood['connected']]);
  });

  it('reset-and-broken-pipe: unread request bodies (RST from the server), ECONNRESET at the uploader, EPIPE at the late writer', () => {
    const report = loadReportFixture('reset-and-broken-pipe');
    const out = runFindings(resetFindings, report);
    expect(out).toHaveLength(3);
    const d = host(report, 'upserver').counters.delta;
    const unread = citing(out, 'web');
    expect(values(unread, 'closedUnread')).toEqual([stats(report, 'web')['closedUnread']]);
    expect(values(unread, 'counter', 'TcpExt.TCPAbortOnClose')).toEqual([d['TcpExt.TCPAbortOnClose']]);
    const up = stats(report, 'upload')['errors']['ECONNRESET'];
    const u = citing(out, 'upload');
    expect(values(u, 'syscallErrors', 'ECONNRESET write')).toEqual([up.syscalls.write]);
    expect(values(u, 'syscallErrors', 'ECONNRESET read')).toEqual([up.syscalls.read]);
    expect(u[0]!.peers).toEqual(['upserver']);
    const pipe = stats(report, 'late-writer')['errors']['EPIPE'];
    const p = citing(out, 'late-writer');
    expect(values(p, 'errors', 'EPIPE')).toEqual([pipe.count]);
    expect(values(p, 'syscallErrors', 'EPIPE write')).toEqual([pipe.syscalls.write]);
    expect(p[0]!.peers).toEqual(['wserver']);
  });

  it('haproxy-short-upstream: ECONNRESET at the backend, whose peer is the proxy', () => {
    const report = loadReportFixture('haproxy-short-upstream');
    const out = runFindings(resetFindings, report);
    expect(claimValue(out, 'backend1', 'counter', 'Tcp.EstabResets')).toBe(
      host(report, 'backend1').counters.delta['Tcp.EstabResets'],
    );
    expect(out.find((f) => f.host === 'backend1')!.peers).toEqual(['proxy']);
  });

  it('says nothing where nothing was reset', () => {
    for (const name of ['short-conn', 'server-close', 'tw-bucket-overflow'])
      expect(runFindings(resetFindings, loadReportFixture(name))).toEqual([]);
  });

  it('reacts to the fixture: no ECONNRESET, no resets sent', () => {
    const quiet = loadReportFixture('rst-close');
    stats(quiet, 'web')['errors'] = {};
    stats(quiet, 'rst-web')['resetsSent'] = 0;
    const q = runFindings(resetFindings, quiet);
    expect(citing(q, 'web')).toEqual([]);
    expect(claimed(q, 'resetsSent').map((c) => c.host)).toEqual(['rstclient']);
    expect(q).toHaveLength(2);
  });
});
