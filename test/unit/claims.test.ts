// Findings as typed claims (issue 21 item 2, Why 4, 5): each number re-derived from the report's own evidence,
// per peer group, and simultaneous closes as a claim of their own.
import { describe, expect, it } from 'vitest';
import { findingsWithClaims } from '../../src/report/findings/index.ts';
import type { Report } from '../../src/report/report.ts';
import { contradictions } from '../../src/report/truth-check.ts';
import { loadReportFixture } from './fixture.ts';

const withClaims = (report: Report): Report => ({ ...report, ...findingsWithClaims(report.scenario.plan, report) });
const claimsOf = (report: Report, host: string, name: string) =>
  (report.claims ?? []).filter((f) => f.host === host).flatMap((f) => f.claims.filter((c) => c.name === name));

describe('claims', () => {
  it("Why 4 (chained nginx proxies): proxyb's group with backend is judged from that group, with its simultaneous closes", () => {
    const report = withClaims(loadReportFixture('chained-proxy'));
    const both = claimsOf(report, 'proxyb', 'simultaneousCloses');
    // backend counted 1,939 first closes, proxyb's census 188 toward backend (its counters also count its 2,032 with proxya), 2,109 connections.
    expect(both.map((c) => [c.value, c.peers])).toEqual([[18, ['backend']]]);
    // proxyb's host-wide TcpExt.TW is not the group's: its first closes toward backend are a census lower bound.
    const proxyb = claimsOf(report, 'proxyb', 'firstCloses').find(
      (c) => c.peers?.[0] === 'backend' && c.plus.every((r) => 'host' in r && r.host === 'proxyb'),
    )!;
    expect([proxyb.value, proxyb.bound]).toEqual([188, 'at-least']);
    expect(contradictions(report)).toEqual([]);
  });

  it("Why 4: a claim about proxyb and backend drawn from proxyb's host-wide counters is refused, as is a number its evidence does not give", () => {
    const report = withClaims(loadReportFixture('chained-proxy'));
    const i = report.claims!.findIndex((f) => f.host === 'backend');
    const f = report.claims![i]!;
    const wrong = {
      ...f,
      claims: [
        {
          name: 'firstCloses' as const,
          value: 0,
          unit: 'connections' as const,
          bound: 'exact' as const,
          derive: 'sum' as const,
          plus: [{ from: 'counter' as const, host: 'proxyb', counter: 'TcpExt.TW' }],
          peers: ['proxyb'],
        },
      ],
    };
    const found = contradictions({ ...report, claims: [wrong] }).map((c) => c.evidence);
    expect(found).toContain('its evidence gives 2,220');
    expect(found).toContain(
      'TcpExt.TW is host-wide, and host proxyb also held 2,032 TIME_WAIT with host proxya, outside this group',
    );
  });

  it("Why 5 (proxy-short-upstream, backendCloser=server): simultaneous closes are a claim of their own, re-derived from both kernels' counters", () => {
    const report = withClaims(loadReportFixture('proxy-short-upstream--backend-closer-server'));
    const both = claimsOf(report, 'proxy', 'simultaneousCloses');
    // 880 first closes on the proxy + 1,184 on backend1 - 2,000 connections (Tcp.PassiveOpens on backend1).
    expect(both.map((c) => c.value)).toEqual([64]);
    expect(both[0]!.minus).toEqual([{ from: 'counter', host: 'backend1', counter: 'Tcp.PassiveOpens' }]);
    expect(contradictions(report)).toEqual([]);
    const off = {
      ...report,
      hosts: {
        ...report.hosts,
        backend1: {
          ...report.hosts['backend1']!,
          counters: {
            ...report.hosts['backend1']!.counters,
            delta: { ...report.hosts['backend1']!.counters.delta, 'TcpExt.TW': 1_100 },
          },
        },
      },
    };
    expect(contradictions(off).map((c) => c.claim)).toContain(
      'simultaneousCloses >= 64 connections (host proxy, peers backend1)',
    );
  });
});
