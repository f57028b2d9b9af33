import { describe, expect, it } from 'vitest';
import { timeWaitTakeoverFindings } from '../../../src/report/findings/time-wait-takeover.ts';
import { about, host, loadReportFixture, n, only, runRule, stats } from '../fixture.ts';

describe('timeWaitTakeoverFindings', () => {
  it('server-close: entries that left TIME_WAIT early, taken over by the client\'s next SYN on a same-parity port', () => {
    const report = loadReportFixture('server-close');
    const server = host(report, 'server');
    const entered = server.counters.delta['TcpExt.TW']!;
    const out = runRule(timeWaitTakeoverFindings, report);
    expect(out).toHaveLength(1);
    const s = only(out, 'On host server');
    expect(entered).toBeGreaterThan(server.peak.total.TIME_WAIT);
    expect(s).toContain(`${n(entered)} connections entered TIME_WAIT (TcpExt.TW +${n(entered)})`);
    expect(s).toContain(`at most ${n(server.peak.total.TIME_WAIT)} were there at once and ${n(server.final.TIME_WAIT)} at the end`);
    expect(s).toContain(`in a run shorter than 60 s, ${n(entered - server.final.TIME_WAIT)} entries left TIME_WAIT early`);
    // No RST from the client's host, and tcp_rfc1337=0 on the server: the SYN takeover is the explanation.
    expect(host(report, 'client').counters.delta['Tcp.OutRsts']).toBe(0);
    expect(s).toContain("its clients' hosts sent none: Tcp.OutRsts 0");
    expect(s).toContain('taken over by the client\'s next SYN on the same 4-tuple');
    expect(s).toContain('(RFC 6191)');
    expect(s).toContain(`TcpExt.TWRecycled +${n(server.counters.delta['TcpExt.TWRecycled'] ?? 0)} here`);
    // The scenario's client range 40000-40199: 200 ports, 100 of its low end's parity.
    const conns = Number(stats(report, 'flood')['connected']);
    const peer = server.peak.peers.listen[host(report, 'client').address]!.TIME_WAIT!;
    expect(s).toContain(`Host client (actor flood) made ${n(conns)} connections through its 200-port range 40000-40199 with ${n(Number(stats(report, 'flood')['errorCount']))} errors, and host server held at most ${n(peer)} TIME_WAIT from it`);
    expect(s.includes("low end's parity")).toBe(peer === 100);
    if (peer === 100) expect(s).toContain(`exactly the 100 ports of the range with its low end's parity, the half connect() tries first: holding no TIME_WAIT itself, the client found one of them free every time, so each was used about ${Math.round(conns / 100)} times.`);
    expect(s).toContain("Whoever closes first holds the TIME_WAIT");
  });

  it('nat-single-source: clients\' RSTs also end entries, so the takeover cannot be told apart', () => {
    const report = loadReportFixture('nat-single-source');
    const server = host(report, 'server');
    const rsts = ['c1', 'c2', 'c3', 'c4'].reduce((sum, c) => sum + (host(report, c).counters.delta['Tcp.OutRsts'] ?? 0), 0);
    const s = only(runRule(timeWaitTakeoverFindings, report), 'On host server');
    expect(s).toContain(`${n(server.counters.delta['TcpExt.TW']!)} connections entered TIME_WAIT`);
    expect(rsts).toBeGreaterThan(0);
    expect(server.sysctls['net.ipv4.tcp_rfc1337']).toBe('0');
    expect(s).toContain(`Their clients' hosts sent ${n(rsts)} RSTs, which also end TIME_WAIT entries (tcp_rfc1337=0), so the takeover by new SYNs cannot be told apart here.`);
    expect(s).not.toContain('Not by their timer');
  });

  it('b) nat-single-source: the clients behind the gateway are one source address to the server, and the clause says so', () => {
    // The run said "Host c1 ... left at most 0 TIME_WAIT here: one per 4-tuple it used" for each client: it looked the
    // clients up by their own addresses, which the server never sees behind the masquerading gateway.
    const report = loadReportFixture('nat-single-source');
    const server = host(report, 'server');
    expect(server.peak.peers.listen['198.18.0.2']).toBeUndefined();
    const held = server.peak.peers.listen['198.18.1.1']!.TIME_WAIT!;
    expect(held).toBe(849);
    const conns = ['c1', 'c2', 'c3', 'c4'].reduce((sum, c) => sum + Number(stats(report, `from-${c}`)['connected']), 0);
    const s = only(runRule(timeWaitTakeoverFindings, report), 'On host server');
    expect(s).toContain(`Hosts c1, c2, c3 and c4 reach host server through gateway gw, whose masquerade address 198.18.1.1 is the one source address host server saw: it held up to ${n(held)} TIME_WAIT under that address for their ${n(conns)} connections, one per 4-tuple the gateway used; which client an entry belonged to cannot be told from host server.`);
    expect(s).not.toContain('left at most 0');
    expect(s).not.toMatch(/Host c\d \(actor/);
  });

  it('nat-single-source with tcp_rfc1337=1: RSTs are ignored in TIME_WAIT, the takeover stands', () => {
    const report = loadReportFixture('nat-single-source--rfc1337');
    expect(host(report, 'server').sysctls['net.ipv4.tcp_rfc1337']).toBe('1');
    const s = only(runRule(timeWaitTakeoverFindings, report), 'On host server');
    expect(s).toContain('not by an RST (tcp_rfc1337=1 ignores them)');
    expect(s).toContain('(RFC 6191)');
  });

  it('c) fixed-local-port: only the server-closing client\'s 4-tuple, from its one local port; the clients that closed first themselves are left out', () => {
    // The run said "Host noreuse made 30 connections through its 28,232-port range ... left at most 0 TIME_WAIT here"
    // of clients that bound port 50000 and closed first (TcpExt.TW +30 on their own hosts).
    const report = loadReportFixture('fixed-local-port');
    for (const c of ['noreuse', 'reuse']) expect(host(report, c).counters.delta['TcpExt.TW']).toBe(30);
    const server = host(report, 'server');
    const entered = server.counters.delta['TcpExt.TW']!;
    const s = only(runRule(timeWaitTakeoverFindings, report), 'On host server');
    expect(s).toContain(`${n(entered)} connections entered TIME_WAIT (TcpExt.TW +${n(entered)}), yet at most ${n(server.peak.total.TIME_WAIT)} were there at once`);
    expect(s).toContain(`${n(entered - server.final.TIME_WAIT)} entries left TIME_WAIT early`);
    const peer = server.peak.peers.listen[host(report, 'srvclose').address]!.TIME_WAIT!;
    expect(s).toContain(`Host srvclose (actor from-srvclose) made ${n(stats(report, 'from-srvclose')['connected'])} connections from its one local port 50000 with 0 errors, and host server held at most ${n(peer)} TIME_WAIT from it: one per 4-tuple it used.`);
    for (const c of ['noreuse', 'reuse', 'nots']) expect(s).not.toContain(`Host ${c} `);
    expect(s).not.toContain('28,232-port');
  });

  it('mixed (backendCloser=server): the proxy as the client, its connections counted by the backend\'s Tcp.PassiveOpens, and its own share of first closes', () => {
    const report = loadReportFixture('proxy-short-upstream--backend-closer-server');
    const s = only(runRule(timeWaitTakeoverFindings, report), 'On host backend1');
    expect(s).toContain('1,184 connections entered TIME_WAIT (TcpExt.TW +1,184), yet at most 251 were there at once');
    expect(s).toContain('Host proxy (actor proxy) made 2,000 connections (Tcp.PassiveOpens on host backend1) through its 1,000-port range 40000-40999, and host backend1 held at most 251 TIME_WAIT from it: one per 4-tuple it used (host proxy closed first on 880 of them itself).');
  });

  it('says nothing of a host that also holds TIME_WAIT as a client: its TcpExt.TW mixes both', () => {
    // haproxy in tcp mode: the proxy holds TIME_WAIT toward the backend (ephemeral) and from the clients (listening).
    const report = loadReportFixture('haproxy-short-upstream--mode-tcp');
    expect(host(report, 'proxy').peak.ephemeral.TIME_WAIT).toBeGreaterThan(0);
    expect(about(runRule(timeWaitTakeoverFindings, report), 'proxy')).toEqual([]);
  });

  it('says nothing where TIME_WAIT sits on ephemeral ports only, or where none left early', () => {
    // short-conn: the client's TIME_WAIT is on its own ports; the server listens but holds none.
    expect(runRule(timeWaitTakeoverFindings, loadReportFixture('short-conn'))).toEqual([]);
    // listen-backlog: the servers hold TIME_WAIT on their listening port, every entry still there at the end.
    const lb = loadReportFixture('listen-backlog');
    for (const h of ['server', 'strict']) expect(host(lb, h).counters.delta['TcpExt.TW']).toBeLessThanOrEqual(host(lb, h).peak.total.TIME_WAIT);
    expect(runRule(timeWaitTakeoverFindings, lb)).toEqual([]);
  });

  it('reacts to the fixture: a 60 s run, no early exits, FIN_WAIT_2 timewait entries, an RST from the client', () => {
    const long = loadReportFixture('server-close');
    long.durationMs = 60_000;
    expect(runRule(timeWaitTakeoverFindings, long)).toEqual([]);

    const none = loadReportFixture('server-close');
    host(none, 'server').counters.delta['TcpExt.TW'] = host(none, 'server').peak.total.TIME_WAIT;
    expect(runRule(timeWaitTakeoverFindings, none)).toEqual([]);

    const finWait = loadReportFixture('server-close');
    const fw = host(finWait, 'server');
    fw.peak.total.FIN_WAIT2 = 5;
    fw.peak.sockstatTw = fw.peak.total.TIME_WAIT + 5;
    expect(runRule(timeWaitTakeoverFindings, finWait)).toEqual([]);

    const reset = loadReportFixture('server-close');
    host(reset, 'client').counters.delta['Tcp.OutRsts'] = 7;
    const s = only(runRule(timeWaitTakeoverFindings, reset), 'On host server');
    expect(s).toContain("Their clients' hosts sent 7 RSTs");
    expect(s).not.toContain('RFC 6191');
    expect(about(runRule(timeWaitTakeoverFindings, reset), 'server')).toHaveLength(1);

    // One TIME_WAIT fewer from the client than its same-parity half: the parity clause goes.
    const fewer = loadReportFixture('server-close');
    const srv = host(fewer, 'server');
    srv.peak.peers.listen[host(fewer, 'client').address]!.TIME_WAIT = 99;
    const f = only(runRule(timeWaitTakeoverFindings, fewer), 'On host server');
    expect(f).toContain('host server held at most 99 TIME_WAIT from it: one per 4-tuple it used.');
    expect(f).not.toContain("low end's parity");
  });
});
