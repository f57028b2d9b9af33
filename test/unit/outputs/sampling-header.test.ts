// A sampler that missed more than a quarter of its ticks is said in the summary's header: its host's peaks can be low.
import { describe, expect, it } from 'vitest';
import { summaryHeader } from '../../../src/outputs/summary-sections.ts';
import { loadReportFixture } from '../fixture.ts';

describe('the summary header on sampling', () => {
  it('says nothing where every host kept up, and names the hosts that fell behind', () => {
    const kept = loadReportFixture('short-conn');
    expect(summaryHeader(kept).join('\n')).not.toContain('SAMPLING FELL BEHIND');
    const behind = loadReportFixture('short-conn');
    const client = behind.hosts['client']!;
    client.skippedTicks = client.samples * 3;
    expect(summaryHeader(behind).at(-1)).toMatch(
      /^SAMPLING FELL BEHIND on 1 of 2 hosts \(client\): as few as 25% of the ticks got a sample/,
    );
    // Past a quarter of its ticks missed, a host is named (60% got a sample); a quarter or less is not.
    client.skippedTicks = Math.ceil((client.samples * 2) / 3);
    expect(summaryHeader(behind).at(-1)).toMatch(/^SAMPLING FELL BEHIND on 1 of 2 hosts \(client\)/);
    client.skippedTicks = Math.floor(client.samples / 3);
    expect(summaryHeader(behind).join('\n')).not.toContain('SAMPLING FELL BEHIND');
  });
});
