// The checker against sentences real runs wrote before the rules read the kernel's evidence (each quoted from the
// findings recorded in the fixture's run), and against what findings() says now on every fixture.
import { describe, expect, it } from 'vitest';
import { findingsWithClaims } from '../../src/report/findings/index.ts';
import type { Report } from '../../src/report/report.ts';
import { contradictions } from '../../src/report/truth-check.ts';
import { host, loadReportFixture, reportFixtureNames } from './fixture.ts';

/** The fixture's report with these findings instead of its own. */
function saying(name: string, ...sentences: string[]): Report {
  return { ...loadReportFixture(name), findings: sentences };
}

const claims = (report: Report) => contradictions(report).map((c) => c.claim);
const evidence = (report: Report) => contradictions(report).map((c) => c.evidence);

describe('contradictions()', () => {
  it('a) a listener host said to close first "as their client side", with a census above sockstat tw and parts that do not add up', () => {
    const report = saying('address-in-use-restart', 'TIME_WAIT piled up on host server: peak 201 (201 on ephemeral ports, 153 on ports it listens on) at 1.60 s. Host server closed these connections first, as their client side; only the side that closes first enters TIME_WAIT, and it stays there 60 s (TCP_TIMEWAIT_LEN, fixed in the kernel; tcp_fin_timeout does not change it). That is 0.7% of its 28,232-port ip_local_port_range (32768-60999).');
    expect(evidence(report)).toEqual([
      'host server opened no connection (Tcp.ActiveOpens +0), so it was no connection\'s client side',
      '201 + 153 = 354, not 201',
      'the kernel\'s own count (sockstat tw, timewait minisockets included) peaked at 200: no census of the same sockets holds more',
    ]);
  });

  it('b) NAT: a client said to leave 0 TIME_WAIT on the server for its 296 connections (looked up by its own address)', () => {
    const report = saying('nat-single-source', 'Host c1 (actor from-c1) made 296 connections through its 200-port range 40000-40199 with 0 errors, and left at most 0 TIME_WAIT here: one per 4-tuple it used.');
    expect(contradictions(report)).toHaveLength(1);
    expect(evidence(report)[0]).toContain('296 connections that the server closed first leave at least one TIME_WAIT entry');
  });

  it('c) fixed local port: a client that closed first itself (TcpExt.TW +30 on its host) listed as the server\'s TIME_WAIT', () => {
    const report = saying('fixed-local-port', 'Host noreuse (actor from-noreuse) made 30 connections through its 28,232-port range 32768-60999 with 0 errors, and left at most 0 TIME_WAIT here: one per 4-tuple it used.');
    expect(evidence(report)).toContain('host noreuse\'s own kernel counted 30 first closes: it closed first itself, so the TIME_WAIT is its own');
  });

  it('d) "The proxy closed these connections first" against TcpExt.TW +1,184 on the backend and +880 on the proxy', () => {
    const report = saying('proxy-short-upstream--backend-closer-server', 'Upstream web1 (198.18.0.3:8080): TIME_WAIT of its connections with the proxy peaked at 882 on host proxy and 256 on host backend1 (all its ports from 198.18.0.2), ESTABLISHED at 6. The proxy closed these connections first, so its host holds their TIME_WAIT for 60 s, each on one of its local ports toward 198.18.0.3:8080. That is 88.2% of its 1,000-port ip_local_port_range (40000-40999), the budget toward one upstream ip:port.');
    expect(claims(report)).toEqual(['The proxy closed these connections first']);
    expect(evidence(report)).toEqual(['host backend1, whose only peer is host proxy, counted 1,184 first closes against 880 on host proxy']);
  });

  it('e) 100.5% of a 1,000-port range', () => {
    const report = saying('proxy-short-upstream', 'Upstream web1 (198.18.0.3:8080): TIME_WAIT of its connections with the proxy peaked at 1,005 on host proxy and 0 on host backend1 (all its ports from 198.18.0.2), ESTABLISHED at 6. The proxy closed these connections first, so its host holds their TIME_WAIT for 60 s, each on one of its local ports toward 198.18.0.3:8080. That is 100.5% of its 1,000-port ip_local_port_range (40000-40999), the budget toward one upstream ip:port.');
    expect(claims(report)).toEqual(['100.5% of its']);
  });

  it('defect 1: ports said to be held by TIME_WAIT where every TIME_WAIT peak was 0, and peers said to close first where none did', () => {
    const held = saying('short-conn--held-open', 'EADDRNOTAVAIL ("Cannot assign requested address") 100 times on host client (actor flood; connect() 100), first 2.00 s into the load. Every local port toward 198.18.0.2:8080 was held by a socket in TIME_WAIT, and net.ipv4.tcp_tw_reuse=0 forbids connect() to reuse them.');
    expect(evidence(held)).toEqual(['host client\'s census saw no TIME_WAIT toward 198.18.0.2:8080 in any sample (sockstat tw peak 0)']);
    const peers = saying('haproxy-keepalive-upstream', 'Host backend1 held no TIME_WAIT (peak 0): its peers closed first on 6 connections and it closed only after their FIN, a passive close that ends in LAST_ACK, not TIME_WAIT.');
    expect(evidence(peers)).toEqual(['its peers (proxy) counted 0 first closes in all (TcpExt.TW, TWKilled, TCPTimeWaitOverflow)']);
    const nobody = saying('short-conn', 'Host server held no TIME_WAIT, and neither did host client: none of their connections was closed during the measurement.');
    expect(evidence(nobody)).toEqual(['host client counted 1,000 first closes']);
  });

  it('"= 0 x its budget" is refused', () => {
    expect(claims(saying('listen-backlog', 'Host client opened 200 connections toward 2 destinations = 0 x its 28,232-port budget.'))).toEqual(['= 0 x its']);
  });

  it('accepts the same claims where the evidence holds them up', () => {
    expect(contradictions(saying('short-conn', 'Host client closed its connections with host server first, as their client side (first closes counted by each kernel: host client 1,000 (TcpExt.TW +1,000), host server 0 (TcpExt.TW +0)).'))).toEqual([]);
    expect(contradictions(saying('short-conn', 'Every local port toward 198.18.0.2:8080 was held by a socket in TIME_WAIT (per-peer census peaks on host client: TIME_WAIT 1,000).'))).toEqual([]);
    // One number off and the evidence no longer holds it up.
    const report = loadReportFixture('short-conn');
    host(report, 'client').peak.peers.ephemeral['198.18.0.2:8080']!.TIME_WAIT = 899;
    expect(contradictions({ ...report, findings: ['Every local port toward 198.18.0.2:8080 was held by a socket in TIME_WAIT on host client.'] })).toHaveLength(1);
  });

  it.each(reportFixtureNames())('%s: findings() now contradicts none of its evidence', (name) => {
    const report = loadReportFixture(name);
    const now = findingsWithClaims(report.scenario.plan, report);
    expect(now.findings.length).toBeGreaterThan(0);
    expect(contradictions({ ...report, ...now })).toEqual([]);
  });
});
