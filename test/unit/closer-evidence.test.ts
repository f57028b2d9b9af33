// Who closed first, from each end's kernel counters and census, on report fixtures of real runs: one case per
// branch (client, server, mixed, nobody, RST, orphaned, overflowed, reused, half-closed, NAT, a host in two links).
import { describe, expect, it } from 'vitest';
import {
  closerEvidence,
  evidenceOf,
  firstCloser,
  peerGroups,
  type CloserEvidence,
} from '../../src/report/evidence/closer.ts';
import { planLinks } from '../../src/report/evidence/links.ts';
import { timeWaitCount } from '../../src/report/evidence/time-wait.ts';
import type { Report } from '../../src/report/report.ts';
import { host, loadReportFixture } from './fixture.ts';

/** The evidence for the group into `server` that includes `client`. */
function between(report: Report, client: string, server: string): CloserEvidence {
  const links = planLinks(report.scenario.plan);
  const e = evidenceOf(report.hosts, links, server).find(
    (g) => g.serverHost === server && g.clientHosts.includes(client),
  );
  if (!e) throw new Error(`no link ${client} -> ${server}`);
  return e;
}

describe('closerEvidence', () => {
  it('client closed (short-conn): TcpExt.TW +1,000 on the client, none on the server', () => {
    const e = between(loadReportFixture('short-conn'), 'client', 'server');
    expect(e.first).toBe('client');
    expect(e.client).toMatchObject({ hosts: ['client'], count: 1000, basis: 'counters' });
    expect(e.server).toMatchObject({ hosts: ['server'], count: 0, basis: 'counters' });
  });

  it('server closed (server-close): 1,000 first closes on the server though its census peaked at 100 (new SYNs took entries over)', () => {
    const e = between(loadReportFixture('server-close'), 'client', 'server');
    expect(e.first).toBe('server');
    expect(e.server.count).toBe(1000);
    expect(e.server.peer.timeWait).toBe(100);
  });

  it('mixed (backendCloser=server): 880 on the proxy, 1,184 on the backend', () => {
    const report = loadReportFixture('proxy-short-upstream--backend-closer-server');
    const e = between(report, 'proxy', 'backend1');
    expect(e.first).toBe('mixed');
    // The proxy also serves the client: its counters are this link's because its census saw no TIME_WAIT from the client.
    expect(e.client).toMatchObject({ count: 880, basis: 'counters' });
    expect(e.server).toMatchObject({ count: 1184, basis: 'counters' });
    // The same proxy host as the server of the clients' link: it closed none first there.
    expect(between(report, 'client', 'proxy').first).toBe('client');
  });

  it('nobody closed (closeStyle never on both sides): no first close, no reset, no half close', () => {
    const e = between(loadReportFixture('short-conn--held-open'), 'client', 'server');
    expect(e.first).toBe('none');
    expect(e.halfClosedBy).toBeUndefined();
    expect(e.client.resets + e.server.resets).toBe(0);
  });

  it('RST (rst-close): no first close on either end, the resets on the closer', () => {
    const report = loadReportFixture('rst-close');
    const c = between(report, 'rstclient', 'server');
    expect(c.first).toBe('none');
    expect(c.client.resets).toBe(400);
    const s = between(report, 'client', 'rstserver');
    expect(s.first).toBe('none');
    expect(s.server.resets).toBe(400);
  });

  it("orphaned (close-wait-leak): the client's orphaned FIN_WAIT_2 entries count as its first closes (TcpExt.TWKilled, tcp_fin_timeout 2 s)", () => {
    const report = loadReportFixture('close-wait-leak');
    expect(host(report, 'client').counters.delta['TcpExt.TW']).toBe(0);
    const e = between(report, 'client', 'server');
    expect(e.first).toBe('client');
    expect(e.client.count).toBe(150);
  });

  it('half-closed (fin-wait-2, shutserver): no timewait entry at all, FIN_WAIT_2 on the server and CLOSE_WAIT on the client', () => {
    const e = between(loadReportFixture('fin-wait-2'), 'client', 'shutserver');
    expect(e.first).toBe('none');
    expect(e.halfClosedBy).toBe('server');
  });

  it('overflowed (tw-bucket-overflow): closes past tcp_max_tw_buckets count too (TCPTimeWaitOverflow +500)', () => {
    const e = between(loadReportFixture('tw-bucket-overflow'), 'client', 'server');
    expect(e.first).toBe('client');
    expect(e.client.count).toBe(600);
  });

  it('reused (tcp_tw_reuse=1): 1,800 first closes while the census never held more than 500', () => {
    const e = between(loadReportFixture('short-conn--tw-reuse-1'), 'client', 'server');
    expect(e.client.count).toBe(1800);
    expect(e.client.peer.timeWait).toBe(500);
  });

  it('NAT (nat-single-source): four clients behind one gateway address are one group to the server', () => {
    const report = loadReportFixture('nat-single-source');
    const links = planLinks(report.scenario.plan);
    const groups = peerGroups(links);
    expect(groups).toHaveLength(1);
    const e = closerEvidence(report.hosts, links, groups[0]!)!;
    expect(e.clientHosts).toEqual(['c1', 'c2', 'c3', 'c4']);
    expect(e.seenAs).toBe('198.18.1.1');
    expect(e.first).toBe('server');
    // The server serves only this group: all its first closes are theirs.
    expect(e.server).toMatchObject({ count: 1177, basis: 'counters' });
  });

  it('a host in several groups (fixed-local-port): counters where its census saw no TIME_WAIT with the other peers, the census otherwise', () => {
    const report = loadReportFixture('fixed-local-port');
    // The server's TIME_WAIT was all from srvclose: its TcpExt.TW +30 belongs to that link.
    expect(between(report, 'srvclose', 'server').server).toMatchObject({ count: 30, basis: 'counters' });
    const noreuse = between(report, 'noreuse', 'server');
    expect(noreuse.server).toMatchObject({ count: 0, basis: 'census' });
    expect(noreuse.first).toBe('client');
  });

  it('firstCloser: one end, the other within 5%, mixed beyond, none', () => {
    expect(firstCloser(0, 0)).toBe('none');
    expect(firstCloser(100, 0)).toBe('client');
    expect(firstCloser(100, 5)).toBe('client');
    expect(firstCloser(100, 6)).toBe('mixed');
    expect(firstCloser(3, 100)).toBe('server');
  });
});

describe('timeWaitCount', () => {
  it("caps the census by sockstat tw, and splits by the connection's direction where the host went one way only", () => {
    const report = loadReportFixture('address-in-use-restart');
    expect(timeWaitCount(host(report, 'server'))).toEqual({
      peak: 200,
      census: 201,
      sockstat: 200,
      split: { listen: 200, ephemeral: 0, from: 'direction' },
    });
  });

  it('takes the split of the sample that reached the peak, and says nothing of a split it does not have', () => {
    const report = loadReportFixture('haproxy-short-upstream--mode-tcp');
    const proxy = host(report, 'proxy');
    expect(timeWaitCount(proxy).split).toBeUndefined();
    proxy.peak.split = { TIME_WAIT: { listen: 800, ephemeral: 1005 } };
    expect(timeWaitCount(proxy).split).toEqual({ listen: 800, ephemeral: 1005, from: 'census' });
  });
});
