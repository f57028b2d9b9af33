// The census runs at every tick while it is cheap, and within its share of a core when it is not.
import { describe, expect, it } from 'vitest';
import { CENSUS_CPU_SHARE, CensusBudget } from '../../src/sampler/census-budget.ts';

/** Ticks of 100 ms over 10 s; each census takes `ms`: how many ran. */
function censuses(ms: number): number {
  const budget = new CensusBudget();
  let ran = 0;
  for (let t = 0; t < 10_000; t += 100) {
    if (!budget.mayStart(t)) continue;
    ran++;
    budget.ended(t, ms);
  }
  return ran;
}

describe('census budget', () => {
  it('lets a cheap census run at every tick', () => {
    expect(censuses(0.5)).toBe(100);
    expect(censuses(10)).toBe(100);
  });

  it('holds a costly one to its share of a core', () => {
    expect(CENSUS_CPU_SHARE).toBe(0.1);
    // 40 ms a census: one per 400 ms, 10 ms a second of census in each second.
    expect(censuses(40)).toBe(25);
    expect(censuses(250)).toBe(4);
  });

  it('lets the first census run at once', () => {
    expect(new CensusBudget().mayStart(0)).toBe(true);
  });
});
