import { describe, expect, it } from 'vitest';
import { resetFindings } from '../../../src/report/findings/resets.ts';
import { host, loadReportFixture, n, only, runRule, stats } from '../fixture.ts';

describe('resetFindings', () => {
  it('rst-close: each SO_LINGER 0 closer, with its kernel counters and no TIME_WAIT', () => {
    const report = loadReportFixture('rst-close');
    const out = runRule(resetFindings, report);
    expect(out).toHaveLength(4);
    // rst-flood is a load actor with closeStyle rst: each ok connection was reset; rst-web counts its own.
    for (const [h, actor, count] of [['rstclient', 'rst-flood', Number(stats(report, 'rst-flood')['ok'])], ['rstserver', 'rst-web', Number(stats(report, 'rst-web')['resetsSent'])]] as const) {
      const d = host(report, h).counters.delta;
      const s = only(out, `Host ${h} closed`);
      expect(count).toBeGreaterThan(0);
      expect(s).toBe(
        `Host ${h} closed ${n(count)} connections with RST (actor ${actor}, closeStyle rst: SO_LINGER 0). Its kernel counted Tcp.OutRsts +${n(d['Tcp.OutRsts']!)} and TcpExt.TCPAbortOnData +${n(d['TcpExt.TCPAbortOnData']!)} (where a zero-linger close is counted), and its TIME_WAIT peaked at ${n(host(report, h).peak.total.TIME_WAIT)}: a connection closed by RST skips TIME_WAIT on the closer, so its port or 4-tuple is free at once. The cost: the peer's reads fail, and data still in flight is lost.`,
      );
    }
  });

  it('rst-close: ECONNRESET at each peer, the cause named from the closer\'s plan, and resets that node saw as EOF', () => {
    const report = loadReportFixture('rst-close');
    const out = runRule(resetFindings, report);
    const web = stats(report, 'web')['errors']['ECONNRESET'];
    const w = only(out, 'ECONNRESET reached actor web ');
    expect(w).toContain(`ECONNRESET reached actor web on host server ${n(web.count)} times (read() ${n(web.syscalls.read)}); the kernel of host server counted Tcp.EstabResets +${n(host(report, 'server').counters.delta['Tcp.EstabResets']!)}`);
    expect(w).toContain('The RSTs came because rst-flood on host rstclient closed with SO_LINGER 0 (an abortive close: resetAndDestroy in node, HAProxy\'s own server-side close), which sends RST instead of FIN.');

    const flood = stats(report, 'flood');
    const f = only(out, 'ECONNRESET reached actor flood ');
    expect(f).toContain(`ECONNRESET reached actor flood on host client ${n(flood['errors']['ECONNRESET'].count)} times`);
    expect(f).toContain('The RSTs came because rst-web on host rstserver closed with SO_LINGER 0');
    expect(flood['errors']['ECONNRESET'].count + flood['peerClosed']).toBe(flood['connected']);
    expect(f).toContain(`The other ${n(flood['peerClosed'])} connections were reset too, but node saw a plain end of stream ('end')`);
  });

  it('reset-and-broken-pipe: unread request bodies (RST from the server), ECONNRESET at the uploader, EPIPE at the late writer', () => {
    const report = loadReportFixture('reset-and-broken-pipe');
    const out = runRule(resetFindings, report);
    expect(out).toHaveLength(3);
    const d = host(report, 'upserver').counters.delta;
    expect(only(out, 'request body unread (actor web')).toBe(
      `Host upserver closed ${n(stats(report, 'web')['closedUnread'])} connections with the request body unread (actor web, requestBody unread): its kernel sent RST instead of FIN (Tcp.OutRsts +${n(d['Tcp.OutRsts']!)}, TcpExt.TCPAbortOnClose +${n(d['TcpExt.TCPAbortOnClose']!)}, TcpExt.TCPAbortOnData +${n(d['TcpExt.TCPAbortOnData'] ?? 0)} for data that kept arriving after the close).`,
    );
    const up = stats(report, 'upload')['errors']['ECONNRESET'];
    const u = only(out, 'ECONNRESET reached actor upload');
    expect(u).toContain(`${n(up.count)} times (write() ${n(up.syscalls.write)}, read() ${n(up.syscalls.read)})`);
    expect(u).toContain('The RSTs came because web on host upserver closed with the request body unread');
    // Not every connection accounted for by ECONNRESET + EOF here: no EOF clause.
    expect(u).not.toContain("node saw a plain end of stream");

    const pipe = stats(report, 'late-writer')['errors']['EPIPE'];
    const p = only(out, 'EPIPE ("Broken pipe") reached actor late-writer');
    expect(p).toContain(`on host writer ${n(pipe.count)} times (write() ${n(pipe.syscalls.write)})`);
    expect(p).toContain('An RST that arrives after the peer\'s FIN (in CLOSE_WAIT) is reported as EPIPE');
    expect(p).toContain('The RSTs came because close-web on host wserver had closed its socket (close(2)), and a closed socket answers new data with RST.');
  });

  it('haproxy-short-upstream: ECONNRESET at the backend, caused by HAProxy\'s reset of its server connections (http mode), as its connection model says', () => {
    const report = loadReportFixture('haproxy-short-upstream');
    const s = only(runRule(resetFindings, report), 'ECONNRESET reached actor web1');
    expect(s).toContain(`Tcp.EstabResets +${n(host(report, 'backend1').counters.delta['Tcp.EstabResets']!)}`);
    expect(s).toContain('The RSTs came because proxy on host proxy closed with SO_LINGER 0');
    // In tcp mode HAProxy mirrors each FIN: no reset to name.
    const tcp = loadReportFixture('haproxy-short-upstream--mode-tcp');
    for (const s of runRule(resetFindings, tcp)) expect(s).not.toContain('The RSTs came because proxy');
  });

  it('says nothing where nothing was reset', () => {
    for (const name of ['short-conn', 'server-close', 'tw-bucket-overflow']) expect(runRule(resetFindings, loadReportFixture(name))).toEqual([]);
  });

  it('reacts to the fixture: a graceful closer, no ECONNRESET, no resets sent', () => {
    const graceful = loadReportFixture('rst-close');
    (graceful.scenario.plan.actors['rst-web']!.options as Record<string, unknown>)['closeStyle'] = 'graceful';
    const out = runRule(resetFindings, graceful);
    expect(only(out, 'ECONNRESET reached actor flood ')).not.toContain('The RSTs came because');
    expect(out.some((s) => s.startsWith('Host rstclient closed'))).toBe(true);

    const quiet = loadReportFixture('rst-close');
    stats(quiet, 'web')['errors'] = {};
    stats(quiet, 'rst-web')['resetsSent'] = 0;
    const q = runRule(resetFindings, quiet);
    expect(q.some((s) => s.includes('actor web '))).toBe(false);
    expect(q.some((s) => s.startsWith('Host rstserver closed'))).toBe(false);
    expect(q).toHaveLength(2);
  });
});
