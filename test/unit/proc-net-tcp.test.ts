import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatV4, scanProcNetTcp, TcpCensusTaker } from '../../src/sampler/proc-net-tcp.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/proc-net/${name}`, import.meta.url));

describe('/proc/net/tcp parser', () => {
  it('reads state and ports of every IPv4 row of a captured table', () => {
    const rows: [number, number, number, string][] = [];
    expect(
      scanProcNetTcp(
        fixture('tcp'),
        4,
        (r) => void rows.push([r.state, r.localPort, r.remotePort, formatV4(r.remoteV4)]),
      ),
    ).toBe(18);
    expect(rows[0]).toEqual([0x0a, 8080, 0, '0.0.0.0']);
    expect(rows[7]).toEqual([0x06, 0x9196, 8080, '127.0.0.1']);
    expect(rows[8]).toEqual([0x05, 0x9198, 8080, '127.0.0.1']);
  });

  it("reads each row's inode, past the space-padded uid and timeout", () => {
    const inodes: number[] = [];
    scanProcNetTcp(fixture('tcp'), 4, (r) => void inodes.push(r.inode));
    expect(inodes.slice(0, 2)).toEqual([10730, 10751]);
    expect(inodes[7]).toBe(0); // TIME_WAIT: no file, no inode
  });

  it('reads IPv6 rows, whose addresses are 32 hex digits', () => {
    const rows: [number, number, number][] = [];
    expect(scanProcNetTcp(fixture('tcp6'), 6, (r) => void rows.push([r.state, r.localPort, r.remoteV4]))).toBe(7);
    expect(rows[0]).toEqual([0x0a, 8081, -1]);
    expect(rows[4]).toEqual([0x01, 0xed7e, -1]); // ::1 is no IPv4 address
  });

  it('splits counts between listening ports and the ephemeral side, across both families', () => {
    const census = new TcpCensusTaker().take([
      { buf: fixture('tcp'), family: 4 },
      { buf: fixture('tcp6'), family: 6 },
    ]);
    expect(census.listen).toEqual({ LISTEN: 2, ESTABLISHED: 7, CLOSE_WAIT: 2 });
    expect(census.ephemeral).toEqual({ ESTABLISHED: 7, TIME_WAIT: 5, FIN_WAIT2: 2 });
    expect(census.total).toEqual({ LISTEN: 2, ESTABLISHED: 14, CLOSE_WAIT: 2, TIME_WAIT: 5, FIN_WAIT2: 2 });
    expect(census.sockets).toBe(25);
  });

  it('counts IPv4 peers: the ephemeral side by server ip:port, the listening side by client ip', () => {
    const census = new TcpCensusTaker().take([{ buf: fixture('tcp'), family: 4 }]);
    expect(census.peers.ephemeral).toEqual({ '127.0.0.1:8080': { ESTABLISHED: 4, TIME_WAIT: 5, FIN_WAIT2: 2 } });
    expect(census.peers.listen).toEqual({ '127.0.0.1': { ESTABLISHED: 4, CLOSE_WAIT: 2 } });
  });

  it('reads IPv4-mapped IPv6 peers as IPv4', () => {
    const header = '  sl  local_address                         remote_address                        st\n';
    const row =
      '   0: 0000000000000000FFFF0000010012C6:1F90 0000000000000000FFFF0000020012C6:9C40 06 00000000:00000000\n';
    const census = new TcpCensusTaker().take([{ buf: Buffer.from(header + row), family: 6 }]);
    expect(census.peers.ephemeral).toEqual({ '198.18.0.2:40000': { TIME_WAIT: 1 } });
  });

  it('keeps its place when the row number outgrows its 4-digit field', () => {
    // The kernel prints "%4d:", so from row 10000 on the line is one character longer.
    const rows = ['  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode'];
    const hex = (n: number, w: number) => n.toString(16).toUpperCase().padStart(w, '0');
    rows.push(
      `${'0'.padStart(4)}: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0`,
    );
    for (let i = 1; i < 12_000; i++) {
      rows.push(
        `${String(i).padStart(4)}: 0100007F:${hex(30000 + i, 4)} 0100007F:1F90 06 00000000:00000000 03:00001751 00000000     0        0 0 3 0000000000000000`,
      );
    }
    const census = new TcpCensusTaker().take([{ buf: Buffer.from(`${rows.join('\n')}\n`), family: 4 }]);
    expect(census.ephemeral).toEqual({ TIME_WAIT: 11_999 });
    expect(census.listen).toEqual({ LISTEN: 1 });
  });

  it('counts a 4-tuple listed twice in one table read once, in the state of its last row', () => {
    // seq_file resumes each read() by position: a socket that moved from the established chain to the
    // timewait one meanwhile is listed twice, as ESTABLISHED and then as TIME_WAIT.
    const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
    const row = (sl: number, local: string, remote: string, st: string) =>
      `${String(sl).padStart(4)}: ${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000\n`;
    const table =
      header +
      row(0, '010012C6:9C40', '020012C6:1F90', '01') + // 198.18.0.1:40000 -> 198.18.0.2:8080 ESTABLISHED
      row(1, '010012C6:9C42', '020012C6:1F90', '06') +
      row(2, '010012C6:9C40', '020012C6:1F90', '06') + // the first socket again, now in TIME_WAIT
      row(3, '010012C6:9C40', '030012C6:1F90', '06'); // the same local port toward another server: its own 4-tuple
    const census = new TcpCensusTaker().take([{ buf: Buffer.from(table), family: 4 }]);
    expect(census.total).toEqual({ TIME_WAIT: 3 });
    expect(census.sockets).toBe(3);
    expect(census.repeats).toBe(1);
    expect(census.peers.ephemeral).toEqual({
      '198.18.0.2:8080': { TIME_WAIT: 2 },
      '198.18.0.3:8080': { TIME_WAIT: 1 },
    });
    // The loopback fixture lists both ends of each connection: swapped tuples are two sockets, not a repeat.
    expect(new TcpCensusTaker().take([{ buf: fixture('tcp'), family: 4 }]).repeats).toBe(0);
  });

  it('counts a socket on a server port as the server side, whether or not that port listens at this read', () => {
    const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
    const row = (sl: number, local: string, remote: string, st: string) =>
      `${String(sl).padStart(4)}: ${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000\n`;
    const listening =
      header + row(0, '00000000:1F90', '00000000:0000', '0A') + row(1, '020012C6:1F90', '010012C6:9C40', '06');
    // The listener closed (a restart that failed): its accepted connection's TIME_WAIT is still on port 8080.
    const gone =
      header + row(0, '020012C6:1F90', '010012C6:9C40', '06') + row(1, '020012C6:1F91', '010012C6:9C42', '06');
    const sticky = new TcpCensusTaker();
    expect(sticky.take([{ buf: Buffer.from(listening), family: 4 }]).listen).toEqual({ LISTEN: 1, TIME_WAIT: 1 });
    const after = sticky.take([{ buf: Buffer.from(gone), family: 4 }]);
    expect(after.listen).toEqual({ TIME_WAIT: 1 });
    expect(after.ephemeral).toEqual({ TIME_WAIT: 1 });
    expect(after.peers.listen).toEqual({ '198.18.0.1': { TIME_WAIT: 1 } });
    // A taker that never saw 8080 listen knows it from the plan's server ports; without either it cannot tell.
    expect(new TcpCensusTaker([8080, 8081]).take([{ buf: Buffer.from(gone), family: 4 }]).listen).toEqual({
      TIME_WAIT: 2,
    });
    expect(new TcpCensusTaker().take([{ buf: Buffer.from(gone), family: 4 }]).ephemeral).toEqual({ TIME_WAIT: 2 });
  });

  it('counts nothing in an empty table (IPv6 disabled)', () => {
    expect(new TcpCensusTaker().take([{ buf: Buffer.alloc(0), family: 6 }]).sockets).toBe(0);
  });
});
