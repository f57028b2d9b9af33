import { describe, expect, it } from 'vitest';
import { conntrackFindings } from '../../../src/report/findings/conntrack.ts';
import { contradictions } from '../../../src/report/truth-check.ts';
import { findingsWithClaims } from '../../../src/report/findings/index.ts';
import type { Report } from '../../../src/report/report.ts';
import { host, loadReportFixture } from '../fixture.ts';

/** nat-single-source's fixture with its gateway's conntrack as a run records it (insert_failed and drops given). */
function withConntrack(insertFailed: number, drops: number): Report {
  const report = loadReportFixture('nat-single-source');
  const gw = host(report, 'gw');
  Object.assign(gw.counters.delta, {
    'Conntrack.insert_failed': insertFailed,
    'Conntrack.drop': drops,
    'Conntrack.early_drop': 0,
  });
  gw.conntrack = { entriesPeak: 353, atMs: 4122, max: 262144 };
  return report;
}

describe('conntrackFindings', () => {
  it("claims the gateway's table peak, its lost insertions and drops, and the SYNs the hosts behind it resent", () => {
    const report = withConntrack(3, 0);
    const [f] = conntrackFindings({ plan: report.scenario.plan, report });
    expect(f!.host).toBe('gw');
    expect(f!.peers).toEqual(['c1', 'c2', 'c3', 'c4', 'server']);
    const value = (name: string) => f!.claims.find((c) => c.name === name)?.value;
    expect(value('conntrackEntriesPeak')).toBe(353);
    expect(value('conntrackInsertFailed')).toBe(3);
    expect(value('conntrackDrops')).toBe(0);
    const resent = ['c1', 'c2', 'c3', 'c4'].reduce(
      (s, c) => s + (host(report, c).counters.delta['TcpExt.TCPSynRetrans'] ?? 0),
      0,
    );
    expect(value('synRetransmits')).toBe(resent);
  });

  it('passes the truth check, and a claim its evidence does not give fails it', () => {
    const report = withConntrack(3, 2);
    const { findings, claims } = findingsWithClaims(report.scenario.plan, report);
    expect(contradictions({ ...report, findings, claims })).toEqual([]);
    const lying = claims.map((f) =>
      f.rule === 'conntrack'
        ? { ...f, claims: f.claims.map((c) => (c.name === 'conntrackDrops' ? { ...c, value: 0 } : c)) }
        : f,
    );
    expect(contradictions({ ...report, findings, claims: lying }).map((c) => c.claim)).toEqual([
      'conntrackDrops 0 entries (host gw, peers c1, c2, c3, c4, server)',
    ]);
  });

  it('nat-gateway-snat: 120 pooled connections through 100 translated ports; the server holds all 100, the rest clash at insertion', () => {
    const report = loadReportFixture('nat-gateway-snat');
    const [f] = conntrackFindings({ plan: report.scenario.plan, report });
    const value = (name: string) => f!.claims.find((c) => c.name === name)?.value;
    expect(value('translatedPortsInUse')).toBe(100);
    expect(f!.claims.find((c) => c.name === 'translatedPortsInUse')!.peers).toEqual(['server']);
    expect(value('conntrackInsertFailed')).toBe(host(report, 'gw').counters.delta['Conntrack.insert_failed']);
    expect(value('conntrackInsertFailed')).toBeGreaterThan(0);
    expect(f!.text).toContain('keep 120 connections open to it: 20 more than there are ports');
    const { findings, claims } = findingsWithClaims(report.scenario.plan, report);
    expect(contradictions({ ...report, findings, claims })).toEqual([]);
  });

  it('tells exhaustion from the insertion race: with ports to spare, a clash is the race, and fully-random its fix', () => {
    const report = loadReportFixture('nat-gateway-snat');
    report.hosts.server!.peak.peers.listen['198.18.1.1']!.ESTABLISHED = 90;
    const [f] = conntrackFindings({ plan: report.scenario.plan, report });
    expect(f!.claims.find((c) => c.name === 'translatedPortsInUse')!.value).toBe(90);
    expect(f!.text).toMatch(/the insertion race/);
    expect(f!.text).not.toMatch(/every translated port/);
  });

  it('says nothing for a host without a conntrack record (it does not forward, or the report predates it)', () => {
    const report = loadReportFixture('nat-single-source');
    expect(conntrackFindings({ plan: report.scenario.plan, report })).toEqual([]);
    expect(
      conntrackFindings({
        plan: loadReportFixture('short-conn').scenario.plan,
        report: loadReportFixture('short-conn'),
      }),
    ).toEqual([]);
  });
});
