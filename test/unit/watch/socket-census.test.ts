// The rows watch reads and the census it takes, on /proc/net/tcp{,6} text captured from a real namespace
// (test/fixtures/proc-net/README.md says what it holds).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SocketRowReader } from '../../../src/sampler/socket-row-reader.ts';
import { OWNED_STATES, takeCensus } from '../../../src/watch/socket-census.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/proc-net/${name}`, import.meta.url));
const tables = () => [
  { buf: fixture('tcp'), family: 4 as const },
  { buf: fixture('tcp6'), family: 6 as const },
];

describe('socket rows', () => {
  it('reads every socket once, with the inode of CLOSE_WAIT and FIN_WAIT2 rows only', () => {
    const rows = new SocketRowReader(OWNED_STATES).collect(tables());
    expect(rows.count).toBe(25);
    expect(rows.repeats).toBe(0);
    const inodes = Array.from({ length: rows.count }, (_, i) => [rows.state[i], rows.inode[i]]).filter(
      ([, inode]) => inode !== 0,
    );
    expect(inodes).toEqual([
      [8, 10735],
      [8, 10741],
      [5, 10734],
      [5, 10740],
    ]);
  });

  it('keeps the last row of a 4-tuple listed twice in one read (a socket that moved chains meanwhile)', () => {
    const tcp = fixture('tcp').toString('latin1');
    // Row 14 (ESTABLISHED) listed again later as TIME_WAIT, as seq_file can when a read resumes.
    const row14 = tcp.split('\n').find((l) => l.includes('0100007F:91CE 0100007F:1F90'))!;
    const moved = `${tcp}${row14.replace(' 01 ', ' 06 ')}\n`;
    const rows = new SocketRowReader().collect([{ buf: Buffer.from(moved, 'latin1'), family: 4 }]);
    expect(rows.count).toBe(18);
    expect(rows.repeats).toBe(1);
    const census = takeCensus(rows, { lo: 37000, hi: 37999 });
    expect(census.states.TIME_WAIT).toBe(6);
    expect(census.states.ESTABLISHED).toBe(7);
  });
});

describe('socket census', () => {
  it('counts states, and per destination the ports of the range in use', () => {
    const census = takeCensus(new SocketRowReader(OWNED_STATES).collect(tables()), { lo: 37000, hi: 37999 });
    expect(census.states).toMatchObject({ LISTEN: 2, ESTABLISHED: 14, TIME_WAIT: 5, FIN_WAIT2: 2, CLOSE_WAIT: 2 });
    expect(census.sockets).toBe(25);
    // An IPv6 destination has a budget of its own; ports 60798 and up lie outside this range.
    expect(census.destinations).toEqual([
      { destination: '127.0.0.1:8080', ports: 11, states: { ESTABLISHED: 4, FIN_WAIT2: 2, TIME_WAIT: 5 } },
      { destination: '[::1]:8081', ports: 0, states: { ESTABLISHED: 3 } },
    ]);
    expect(census.clientTimeWait).toBe(5);
    expect(census.serverTimeWait).toBe(0);
    expect(census.waiting.map((w) => w.state).sort()).toEqual(['CLOSE_WAIT', 'CLOSE_WAIT', 'FIN_WAIT2', 'FIN_WAIT2']);
  });

  it('counts no port outside ip_local_port_range toward the budget (an explicitly bound port)', () => {
    const census = takeCensus(new SocketRowReader().collect(tables()), { lo: 40000, hi: 40999 });
    expect(census.destinations[0]).toMatchObject({ destination: '127.0.0.1:8080', ports: 0 });
  });
});
