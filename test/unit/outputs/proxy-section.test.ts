// The summary's proxy table counts a proxy's own evidence of lost requests: nginx's error log lines, and the requests
// HAProxy ended abnormally (its log's termination states), which are no error log lines at all.
import { describe, expect, it } from 'vitest';
import { summarySections } from '../../../src/outputs/summary-sections.ts';
import { loadReportFixture } from '../fixture.ts';

function proxyRow(fixture: string): Record<string, string> {
  const section = summarySections(loadReportFixture(fixture)).find((s) => s.title.startsWith('Proxies'))!;
  const row = section.rows!.find((r) => r[0] === 'proxy')!;
  return Object.fromEntries(section.head!.map((h, i) => [h, String(row[i])]));
}

describe('the proxies section', () => {
  it("counts HAProxy's abnormal ends as its lost requests, naming the most frequent state", () => {
    const report = loadReportFixture('keepalive-idle-race-haproxy');
    const terminations = (report.actors['proxy'] as unknown as { terminations: Record<string, number> }).terminations;
    const total = Object.values(terminations).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(0);
    const row = proxyRow('keepalive-idle-race-haproxy');
    expect(row['error lines']).toBe(String(total));
    expect(row['most frequent error']).toMatch(/^SH\/502 \(\d+\)$/);
  });

  it("counts nginx's error log lines as before", () => {
    const report = loadReportFixture('proxy-short-upstream');
    const lines = (report.actors['proxy'] as unknown as { errorLog: { lines: number } }).errorLog.lines;
    expect(proxyRow('proxy-short-upstream')['error lines']!.replaceAll(',', '')).toBe(String(lines));
  });
});
