import { describe, expect, it } from 'vitest';
import { closestName, editDistance } from '../../src/core/closest-name.ts';

describe('closest name', () => {
  it('counts insertions, deletions, substitutions and a swap of neighbours as one edit each', () => {
    expect(editDistance('errors', 'erors')).toBe(1);
    expect(editDistance('timeout', 'timout')).toBe(1);
    expect(editDistance('attempts', 'attmepts')).toBe(1);
    expect(editDistance('ok', 'no')).toBe(2);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('names the one candidate a slip away, and none where it is far or ambiguous', () => {
    expect(closestName('erors', ['errors', 'errorCount', 'ok'])).toBe('errors');
    expect(closestName('tcp_fin_timout', ['tcp_fin_timeout', 'tcp_tw_reuse'])).toBe('tcp_fin_timeout');
    expect(closestName('latency', ['errors', 'ok'])).toBeUndefined();
    // Short names: one edit at most, so "ok" does not become "no".
    expect(closestName('ox', ['ok', 'no'])).toBe('ok');
    expect(closestName('no', ['ok'])).toBeUndefined();
    expect(closestName('abcd', ['abce', 'abcf'])).toBeUndefined();
  });
});
