// The words module: numbers printed one way, and words that follow the claim they are written from.
import { describe, expect, it } from 'vitest';
import { perRequestWords, times } from '../../../src/report/findings/words.ts';

describe('words', () => {
  it('Why 7 (issue 21): connections per request in words that follow the number, not the configuration', () => {
    expect(perRequestWords(0.715)).toBe(
      '0.715 per request: the pool kept few connections alive, most requests opened one of their own',
    );
    expect(perRequestWords(0.015)).toBe('0.015 per request: each connection carried about 67 requests');
    expect(perRequestWords(1)).toContain('about one connection for every request');
  });

  it('a ratio below one is a percentage, never "0 x"', () => {
    expect(times(200, 28_232)).toBe('0.71% of');
    expect(times(0, 28_232)).toBe('0%');
    expect(times(56_464, 28_232)).toBe('2 x');
  });
});
