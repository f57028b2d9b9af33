import { describe, expect, it } from 'vitest';
import { timeWaitFindings } from '../../../src/report/findings/time-wait.ts';
import { about, dur, host, loadReportFixture, n, only, pct, runRule } from '../fixture.ts';

const REASON =
  'Only the side that closes first enters TIME_WAIT, and it stays there 60 s (TCP_TIMEWAIT_LEN, fixed in the kernel; tcp_fin_timeout does not change it).';

describe('timeWaitFindings', () => {
  it("client closed (short-conn): the client piled up TIME_WAIT as the client side, from its kernel's first closes, against its 1,000 ports toward the server", () => {
    const report = loadReportFixture('short-conn');
    const client = host(report, 'client');
    const out = runRule(timeWaitFindings, report);
    expect(out).toHaveLength(2);
    const s = only(out, 'TIME_WAIT piled up');
    expect(s).toContain(
      `TIME_WAIT piled up on host client: peak ${n(client.peak.total.TIME_WAIT)} at ${dur(client.peak.atMs.TIME_WAIT!)}, all on its own local ports: it only connected out (Tcp.ActiveOpens +1,000, Tcp.PassiveOpens +0).`,
    );
    expect(s).toContain(`The kernel's own count (sockstat tw) peaked at ${n(client.peak.sockstatTw)}.`);
    expect(s).toContain(
      'Host client closed its connections with host server first, as their client side (first closes counted by each kernel: host client 1,000 (TcpExt.TW +1,000), host server 0 (TcpExt.TW +0)).',
    );
    expect(s).toContain(REASON);
    // The scenario gives the client 40000-40999: a 1,000-port budget toward 198.18.0.2:8080.
    expect(s).toContain(
      `Toward 198.18.0.2:8080 that is 1,000 of its 1,000-port ip_local_port_range (40000-40999), ${pct(1000, 1000)} of the ports toward that ip:port.`,
    );
  });

  it("client closed, seen from the server: it held none, and the client's kernel counted the first closes", () => {
    const report = loadReportFixture('short-conn');
    expect(host(report, 'server').peak.total.TIME_WAIT).toBe(0);
    expect(only(runRule(timeWaitFindings, report), 'Host server held')).toBe(
      'Host server held no TIME_WAIT (peak 0; sockstat tw 0): host client closed first on its connections here (first closes counted by each kernel: host client 1,000 (TcpExt.TW +1,000), host server 0 (TcpExt.TW +0)), and host server closed only after their FIN, a passive close that ends in LAST_ACK, not TIME_WAIT.',
    );
  });

  it('server closed (server-close): TIME_WAIT on its listening port, as the server side, counted 1,000 times though the peak was 100', () => {
    const report = loadReportFixture('server-close');
    const out = runRule(timeWaitFindings, report);
    const s = only(out, 'host server');
    expect(s).toContain('peak 100 at');
    expect(s).toContain(
      'all on ports its servers listen on: it only accepted connections (Tcp.PassiveOpens +1,000, Tcp.ActiveOpens +0)',
    );
    expect(s).toContain(
      'Host server closed its connections with host client first, as their server side (first closes counted by each kernel: host server 1,000 (TcpExt.TW +1,000), host client 0 (TcpExt.TW +0)).',
    );
    expect(s).not.toContain('ip_local_port_range');
    // The client closed nothing first and holds nothing: not a word about it.
    expect(about(out, 'client').filter((x) => x.startsWith('Host client') || x.includes('on host client:'))).toEqual(
      [],
    );
  });

  it("mixed (proxy-short-upstream, backendCloser=server): both ends' first closes, the share each holds, and the simultaneous closes", () => {
    const report = loadReportFixture('proxy-short-upstream--backend-closer-server');
    const out = runRule(timeWaitFindings, report);
    for (const [name, side, other] of [
      ['proxy', 'client', 'backend1'],
      ['backend1', 'server', 'proxy'],
    ] as const) {
      const s = only(out, `TIME_WAIT piled up on host ${name}`);
      expect(s).toContain(
        `Who closed its connections with host ${other} first was mixed: host ${name} closed first on part of them, as their ${side} side, and host ${other} on the rest`,
      );
      expect(s).toContain('host proxy 880 (TcpExt.TW +880)');
      expect(s).toContain('host backend1 1,184 (TcpExt.TW +1,184)');
      // 880 + 1,184 first closes for 2,000 connections: 64 connections were closed by both ends at once.
      expect(s).toContain(
        '2,000 connections (Tcp.PassiveOpens on host backend1), so at least 64 were closed by both ends at once',
      );
      expect(s).not.toMatch(/Host \w+ closed its connections with host \w+ first/);
    }
  });

  it('nobody closed (closeStyle never on both sides): no TIME_WAIT anywhere, and it says the connections were held open', () => {
    const report = loadReportFixture('short-conn--held-open');
    const out = runRule(timeWaitFindings, report);
    expect(out).toEqual([
      'Host server held no TIME_WAIT, and neither did host client: none of their connections was closed during the measurement (no first close counted on either end: TcpExt.TW, TWKilled and TCPTimeWaitOverflow +0; Tcp.OutRsts +0). At the last sample (host-wide) host server had 200 ESTABLISHED and 0 CLOSE_WAIT, host client had 200 ESTABLISHED and 0 CLOSE_WAIT.',
    ]);
    expect(out.join(' ')).not.toContain('closed first');
  });

  it('RST (rst-close): no TIME_WAIT and no claim about who closed first', () => {
    const rst = loadReportFixture('rst-close');
    for (const h of Object.values(rst.hosts)) expect(h.peak.total.TIME_WAIT).toBe(0);
    expect(runRule(timeWaitFindings, rst)).toEqual([]);
  });

  it("orphaned (close-wait-leak): the client's orphaned FIN_WAIT_2 entries are its first closes (TcpExt.TWKilled, tcp_fin_timeout 2 s)", () => {
    const report = loadReportFixture('close-wait-leak');
    expect(only(runRule(timeWaitFindings, report), 'Host server held')).toContain(
      'host client closed first on its connections here (first closes counted by each kernel: host client 150 (TcpExt.TW +0, TcpExt.TWKilled +150), host server 0 (TcpExt.TW +0))',
    );
  });

  it('overflowed (tw-bucket-overflow): the census capped by sockstat tw, and closes past tcp_max_tw_buckets counted as first closes', () => {
    const report = loadReportFixture('tw-bucket-overflow');
    const client = host(report, 'client');
    expect(client.peak.total.TIME_WAIT).toBe(101);
    expect(client.peak.sockstatTw).toBe(100);
    const s = only(runRule(timeWaitFindings, report), 'TIME_WAIT piled up on host client');
    expect(s).toContain('peak 100 at');
    expect(s).toContain(
      "The /proc/net/tcp census counted 101, more than the kernel's own count (sockstat tw 100): a table read is no snapshot, and sockstat is read apart from it; the kernel's count stands.",
    );
    expect(s).toContain('host client 600 (TcpExt.TW +100, TcpExt.TCPTimeWaitOverflow +500)');
    expect(s).toContain(`that is 100 of its 300-port ip_local_port_range (40000-40299), ${pct(100, 300)} of the ports`);
  });

  it('reused (short-conn, tcp_tw_reuse=1): 1,800 first closes against a peak of 500', () => {
    const report = loadReportFixture('short-conn--tw-reuse-1');
    const s = only(runRule(timeWaitFindings, report), 'TIME_WAIT piled up on host client');
    expect(s).toContain('peak 500 at');
    expect(s).toContain('host client 1,800 (TcpExt.TW +1,800)');
  });

  it("a) address-in-use-restart: the listeners' TIME_WAIT is the server side (Tcp.ActiveOpens +0), and the census over sockstat is capped", () => {
    // The run's census counted a closed listener's port as ephemeral and read 201 against sockstat tw 200; it said
    // "Host server closed these connections first, as their client side ... 0.7% of its 28,232-port ip_local_port_range".
    const report = loadReportFixture('address-in-use-restart');
    const server = host(report, 'server');
    expect(server.peak.ephemeral.TIME_WAIT).toBe(201);
    expect(server.counters.delta['Tcp.ActiveOpens']).toBe(0);
    const out = runRule(timeWaitFindings, report);
    expect(out).toHaveLength(1);
    const s = out[0]!;
    expect(s).toContain(
      `TIME_WAIT piled up on host server: peak 200 at ${dur(server.peak.atMs.TIME_WAIT!)}, all on ports its servers listen on: it only accepted connections (Tcp.PassiveOpens +200, Tcp.ActiveOpens +0).`,
    );
    expect(s).toContain('as their server side');
    expect(s).not.toContain('client side');
    expect(s).not.toContain('ip_local_port_range');
  });

  it('e) proxy-short-upstream: 1,005 in the census, 1,000 in sockstat tw and TcpExt.TW: 1,000 is said, 100% of the range at most', () => {
    const report = loadReportFixture('proxy-short-upstream');
    const s = only(runRule(timeWaitFindings, report), 'TIME_WAIT piled up on host proxy');
    expect(s).toContain('peak 1,000 at');
    expect(s).toContain(
      'Toward 198.18.0.3:8080 that is 1,000 of its 1,000-port ip_local_port_range (40000-40999), 100% of the ports toward that ip:port.',
    );
    expect(s).not.toMatch(/100\.\d%/);
  });

  it('parts add up: a split taken from the sample that reached the peak, trimmed to sockstat tw', () => {
    // haproxy in tcp mode: the proxy both accepted and connected, so the census split stands (no direction to read).
    const report = loadReportFixture('haproxy-short-upstream--mode-tcp');
    const proxy = host(report, 'proxy');
    proxy.peak.split = { TIME_WAIT: { listen: 805, ephemeral: 1001 } };
    const s = only(runRule(timeWaitFindings, report), 'TIME_WAIT piled up on host proxy');
    // 805 + 1,001 = 1,806 in the census against sockstat tw 1,805: the larger part gives up the one.
    expect(s).toContain(
      'peak 1,805 at 6.70 s (1,000 on its own local ports, 805 on ports its servers listen on, in the sample that reached the peak).',
    );
    delete proxy.peak.split;
    expect(only(runRule(timeWaitFindings, report), 'TIME_WAIT piled up on host proxy')).toContain(
      'peak 1,805 at 6.70 s.',
    );
  });
});
