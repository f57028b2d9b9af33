import { describe, expect, it } from 'vitest';
import { parseConntrackStats } from '../../src/sampler/conntrack-stats.ts';
import { counterDelta, pickKeyCounters } from '../../src/sampler/kernel-counters.ts';

// /proc/net/stat/nf_conntrack of a gateway namespace on Linux 6.18, two CPUs: hex, one row per CPU.
const TABLE = [
  'entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart',
  '00000161  00000000 00000310 00000000 00000002 00000000 00000000 00000000 00000000 00000003 00000000 00000000 00000000  00000000 00000000 00000000 00000001',
  '00000161  00000001 00000100 00000000 00000000 00000000 00000000 00000000 00000000 00000005 00000002 00000000 00000000  00000000 00000000 00000000 00000000',
  '',
].join('\n');

describe('conntrack statistics', () => {
  it("adds the per-CPU event counts and takes the namespace's entry count once", () => {
    const c = parseConntrackStats(TABLE)!;
    expect(c['Conntrack.entries']).toBe(0x161);
    expect(c['Conntrack.found']).toBe(0x310 + 0x100);
    expect(c['Conntrack.insert_failed']).toBe(8);
    expect(c['Conntrack.drop']).toBe(2);
    expect(c['Conntrack.clash_resolve']).toBe(1);
    expect(c['Conntrack.search_restart']).toBe(1);
  });

  it('reads nothing from a file without its header (conntrack not loaded: an empty file)', () => {
    expect(parseConntrackStats('')).toBeUndefined();
    expect(parseConntrackStats('garbage 1 2\n')).toBeUndefined();
  });

  it("keeps a forwarding host's key conntrack events in the delta even at 0, and its gauges out of it", () => {
    const start: Record<string, number> = { ...parseConntrackStats(TABLE)!, 'Conntrack.max': 262144 };
    const end = { ...start, 'Conntrack.entries': 10, 'Conntrack.found': start['Conntrack.found']! + 7 };
    const d = counterDelta(start, end);
    expect(d['Conntrack.insert_failed']).toBe(0);
    expect(d['Conntrack.drop']).toBe(0);
    expect(d['Conntrack.found']).toBe(7);
    expect(d).not.toHaveProperty('Conntrack.entries');
    expect(d).not.toHaveProperty('Conntrack.max');
    // A host without conntrack counters gets none in its delta, and its samples carry none.
    expect(
      Object.keys(counterDelta({ 'Tcp.ActiveOpens': 1 }, { 'Tcp.ActiveOpens': 2 })).some((k) =>
        k.startsWith('Conntrack.'),
      ),
    ).toBe(false);
    expect(pickKeyCounters(end)['Conntrack.entries']).toBe(10);
  });
});
