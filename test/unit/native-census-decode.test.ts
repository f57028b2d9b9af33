// The census table the C addon hands back (native/census.c's layout) decodes into the object the JavaScript
// census builds: counts by state name, totals, peers keyed as ip:port (ephemeral side) and ip (listen side).
import { describe, expect, it } from 'vitest';
import { censusCpuMs, decodeCensus } from '../../src/sampler/native-census.ts';
import { MAX_PEERS } from '../../src/sampler/proc-net-tcp.ts';

const STATES = 13;
const counts = (byCode: Record<number, number>) => Array.from({ length: STATES }, (_, code) => byCode[code] ?? 0);
const ip = (text: string) => text.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
const words = (
  sockets: number,
  repeats: number,
  listen: number[],
  ephemeral: number[],
  peers: [number, string, number, number[]][],
  cpuMicroseconds = 0,
) =>
  Uint32Array.from([
    sockets,
    repeats,
    peers.length,
    ...listen,
    ...ephemeral,
    cpuMicroseconds,
    ...peers.flatMap(([role, addr, port, c]) => [role, ip(addr), port, ...c]),
  ]);

describe('decodeCensus', () => {
  it('names states, adds the totals, keys peers by role, and reads the CPU time apart', () => {
    const table = words(
      9,
      1,
      counts({ 1: 2, 10: 1 }),
      counts({ 1: 2, 6: 4 }),
      [
        [0, '198.18.0.2', 8080, counts({ 1: 2, 6: 4 })],
        [1, '198.18.0.7', 0, counts({ 1: 2 })],
      ],
      1234,
    );
    expect(censusCpuMs(table)).toBe(1.234);
    const census = decodeCensus(table);
    expect(census).toEqual({
      listen: { ESTABLISHED: 2, LISTEN: 1 },
      ephemeral: { ESTABLISHED: 2, TIME_WAIT: 4 },
      total: { ESTABLISHED: 4, TIME_WAIT: 4, LISTEN: 1 },
      sockets: 9,
      repeats: 1,
      peers: {
        listen: { '198.18.0.7': { ESTABLISHED: 2 } },
        ephemeral: { '198.18.0.2:8080': { ESTABLISHED: 2, TIME_WAIT: 4 } },
      },
    });
  });

  it(`keeps the ${MAX_PEERS} busiest peers, ties in the order the addon listed them`, () => {
    const peers: [number, string, number, number[]][] = Array.from({ length: MAX_PEERS + 4 }, (_, k) => [
      0,
      `198.18.1.${k + 1}`,
      80,
      counts({ 6: k < 2 ? 1 : 5 }),
    ]);
    const kept = Object.keys(decodeCensus(words(0, 0, counts({}), counts({}), peers)).peers.ephemeral);
    expect(kept).toHaveLength(MAX_PEERS);
    expect(kept[0]).toBe('198.18.1.3:80');
    expect(kept).not.toContain('198.18.1.1:80');
    expect(kept).not.toContain('198.18.1.2:80');
  });
});
