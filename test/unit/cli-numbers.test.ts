// Numbers given on the command line: parsed strictly, anything else a usage error (exit 2) before any lab, so a
// bound can never be switched off by a value that does not parse.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { exitCodeFor } from '../../src/cli/exit-codes.ts';
import { main } from '../../src/cli/main.ts';
import { parseThreshold } from '../../src/core/thresholds.ts';
import { parseSweep } from '../../src/plan/sweep.ts';

/** The exit code of a `waitlab ...` command line run in this process (dry runs only: nothing is built). */
async function exitOf(args: string[]): Promise<number> {
  const printed = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    return await main(args);
  } catch (err) {
    return exitCodeFor(err);
  } finally {
    printed.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('numbers from the command line', () => {
  it('--max-runs takes a whole number 1-1000 and nothing else: "abc" no longer switches the run bound off', async () => {
    const sweep = ['scenario', 'short-conn', '--sweep', 'rate=100/s,200/s,300/s', '--dry-run', '--max-runs'];
    for (const bad of ['abc', '', 'NaN', '1e3', '0x10', '-1', '0', '2.5', ' 12', '12abc', '1001', 'Infinity']) {
      expect(await exitOf([...sweep, bad]), JSON.stringify(bad)).toBe(2);
    }
    // Below the sweep's three runs: refused as too many, not run.
    expect(await exitOf([...sweep, '2'])).toBe(2);
    expect(await exitOf([...sweep, '3'])).toBe(0);
  });

  it('a --sweep list gets the same 100-value cap as a range', () => {
    const list = (n: number) => `port=${Array.from({ length: n }, (_, i) => 1000 + i).join(',')}`;
    expect(parseSweep(list(100)).values).toHaveLength(100);
    expect(() => parseSweep(list(101))).toThrow(/101 values, more than 100/);
    expect(() => parseSweep(list(10_000))).toThrow(/more than 100/);
    expect(() => parseSweep('rate=1..1000+1')).toThrow(/more than 100/);
  });

  it("a threshold's number is finite", () => {
    expect(parseThreshold('durationMs < 1e3').target).toBe(1000);
    expect(() => parseThreshold('durationMs < 1e999')).toThrow(/not a finite number/);
  });
});
