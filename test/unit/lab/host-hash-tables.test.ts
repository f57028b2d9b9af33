// A lab host's own TCP hash table is the machine's shared out among the hosts, a power of two within bounds.
import { describe, expect, it } from 'vitest';
import { hostTableSize, machineTableSize } from '../../../src/lab/host-hash-tables.ts';

describe('host hash tables', () => {
  it("shares the machine's buckets among the hosts, rounded down to a power of two, 1,024 to 65,536", () => {
    expect(hostTableSize(262144, 1)).toBe(65536);
    expect(hostTableSize(262144, 4)).toBe(65536);
    expect(hostTableSize(262144, 8)).toBe(32768);
    expect(hostTableSize(262144, 64)).toBe(4096);
    expect(hostTableSize(262144, 100)).toBe(2048);
    expect(hostTableSize(262144, 200)).toBe(1024);
    expect(hostTableSize(262144, 1000)).toBe(1024);
    expect(hostTableSize(8192, 3)).toBe(2048);
  });

  it("reads the machine's size whether its namespace owns the table or shares it, and nothing before 6.1", () => {
    expect(machineTableSize(() => '262144\n')).toBe(262144);
    expect(machineTableSize(() => '-262144\n')).toBe(262144);
    expect(
      machineTableSize(() => {
        throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      }),
    ).toBeUndefined();
  });
});
