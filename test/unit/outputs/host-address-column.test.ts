// The summary's host table names every address a host had: both of a dual-stack host.
import { describe, expect, it } from 'vitest';
import { summarySections } from '../../../src/outputs/summary-sections.ts';
import { loadReportFixture } from '../fixture.ts';

const addressOf = (report: ReturnType<typeof loadReportFixture>, host: string) => {
  const section = summarySections(report).find((s) => s.title.startsWith('Socket states per host'))!;
  return section.rows!.find((r) => r[0] === host)![1];
};

describe('the host table', () => {
  it("shows a dual-stack host's IPv6 address beside its IPv4 one, and one address otherwise", () => {
    const report = loadReportFixture('short-conn');
    expect(addressOf(report, 'client')).toBe('198.18.0.1');
    const dual = loadReportFixture('short-conn');
    (dual.scenario.plan.hosts['client'] as { address6?: string }).address6 = '2001:2::1';
    expect(addressOf(dual, 'client')).toBe('198.18.0.1 2001:2::1');
  });
});
