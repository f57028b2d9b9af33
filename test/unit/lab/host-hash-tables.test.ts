// A lab host's own TCP hash table is sized for the local ports it may use, a power of two within bounds.
import { describe, expect, it } from 'vitest';
import {
  hostsByTableSize,
  hostTableSize,
  ownTablesSupported,
  portRangeSize,
} from '../../../src/lab/host-hash-tables.ts';

describe('host hash tables', () => {
  it("sizes a host's table to a quarter of its port range, rounded up to a power of two, 1,024 to 65,536", () => {
    expect(hostTableSize(20)).toBe(1024);
    expect(hostTableSize(1000)).toBe(1024);
    expect(hostTableSize(4096)).toBe(1024);
    expect(hostTableSize(4097)).toBe(2048);
    expect(hostTableSize(28232)).toBe(8192);
    expect(hostTableSize(64512)).toBe(16384);
    expect(hostTableSize(1_000_000)).toBe(65536);
  });

  it('reads a port range as the kernel writes it, and refuses what is not one', () => {
    expect(portRangeSize('32768\t60999')).toBe(28232);
    expect(portRangeSize('40000 40999')).toBe(1000);
    expect(portRangeSize('40000 39999')).toBeUndefined();
    expect(portRangeSize('40000')).toBeUndefined();
  });

  it('creates the hosts of one size together, each size once', () => {
    expect([...hostsByTableSize({ a: 1024, b: 32768, c: 1024 })]).toEqual([
      [1024, ['a', 'c']],
      [32768, ['b']],
    ]);
  });

  it('knows a kernel without tables of their own by the missing sysctl', () => {
    expect(ownTablesSupported(() => false)).toBe(false);
    expect(ownTablesSupported(() => true)).toBe(true);
  });
});
