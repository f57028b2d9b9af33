// Rows from netlink sock_diag records (struct inet_diag_msg) and the census over them: built here byte for byte as
// the kernel lays them out, since a test cannot make the kernel list a socket twice on demand.
import { describe, expect, it } from 'vitest';
import { scanDiagRecords } from '../../src/sampler/netlink-rows.ts';
import { TcpCensusTaker } from '../../src/sampler/proc-net-tcp.ts';
import type { SocketRow } from '../../src/sampler/socket-rows.ts';

const SIZE = 72;

function record(
  family: 4 | 6,
  state: number,
  local: string,
  lport: number,
  remote: string,
  rport: number,
  inode = 0,
): Buffer {
  const b = Buffer.alloc(SIZE);
  b[0] = family === 4 ? 2 : 10;
  b[1] = state;
  b.writeUInt16BE(lport, 4);
  b.writeUInt16BE(rport, 6);
  const put = (addr: string, at: number) => {
    if (family === 4 || addr.startsWith('::ffff:')) {
      const v4 = addr.replace('::ffff:', '').split('.').map(Number);
      if (family === 6) b.writeUInt16BE(0xffff, at + 10);
      Buffer.from(v4).copy(b, family === 4 ? at : at + 12);
    } else if (addr === '::1') b[at + 15] = 1;
  };
  put(local, 8);
  put(remote, 24);
  b.writeUInt32LE(inode, 68);
  return b;
}

const rowsOf = (records: Buffer[]) => ({
  async scan(onRow: (row: Readonly<SocketRow>) => void) {
    return scanDiagRecords(Buffer.concat(records), records.length, SIZE, onRow);
  },
});

describe('netlink sock_diag rows', () => {
  it('reads family, state, ports, IPv4 and IPv4-mapped addresses and the inode', () => {
    const seen: unknown[] = [];
    scanDiagRecords(
      Buffer.concat([
        record(4, 10, '0.0.0.0', 8080, '0.0.0.0', 0, 4242),
        record(6, 1, '::ffff:198.18.0.2', 8080, '::ffff:198.18.0.1', 40000, 7),
        record(6, 6, '::1', 41000, '::1', 8080),
      ]),
      3,
      SIZE,
      (r) => void seen.push([r.family, r.state, r.localPort, r.remotePort, r.localV4, r.remoteV4, r.inode]),
    );
    expect(seen).toEqual([
      [4, 10, 8080, 0, 0, 0, 4242],
      [6, 1, 8080, 40000, 0xc6120002, 0xc6120001, 7],
      [6, 6, 41000, 8080, -1, -1, 0],
    ]);
  });

  it('counts a 4-tuple listed twice in one dump once, in its last state, in IPv4 and in IPv6', async () => {
    const census = await new TcpCensusTaker([8080]).takeFrom(
      rowsOf([
        record(4, 10, '0.0.0.0', 8080, '0.0.0.0', 0),
        record(4, 1, '198.18.0.1', 40000, '198.18.0.2', 8080),
        record(4, 6, '198.18.0.1', 40000, '198.18.0.2', 8080), // the same socket again, now in TIME_WAIT
        record(4, 6, '198.18.0.1', 40000, '198.18.0.3', 8080), // same local port toward another server: its own 4-tuple
        record(6, 1, '::1', 41000, '::1', 8080),
        record(6, 6, '::1', 41000, '::1', 8080),
      ]),
    );
    expect(census.total).toEqual({ LISTEN: 1, TIME_WAIT: 3 });
    expect(census.repeats).toBe(2);
    expect(census.sockets).toBe(4);
    expect(census.peers.ephemeral).toEqual({
      '198.18.0.2:8080': { TIME_WAIT: 1 },
      '198.18.0.3:8080': { TIME_WAIT: 1 },
      '[::1]:8080': { TIME_WAIT: 1 },
    });
  });

  it('starts the count over when the source restarts (a netlink dump failed and /proc took over)', async () => {
    const census = await new TcpCensusTaker().takeFrom({
      async scan(onRow, onRestart) {
        scanDiagRecords(record(4, 1, '198.18.0.1', 40000, '198.18.0.2', 8080), 1, SIZE, onRow);
        onRestart?.();
        return scanDiagRecords(record(4, 6, '198.18.0.1', 40001, '198.18.0.2', 8080), 1, SIZE, onRow);
      },
    });
    expect(census.total).toEqual({ TIME_WAIT: 1 });
    expect(census.sockets).toBe(1);
  });

  it("leaves the sockets of an ignored local port (an agent's control port) out of every count", async () => {
    const rows = [
      record(4, 10, '0.0.0.0', 8080, '0.0.0.0', 0),
      record(4, 10, '0.0.0.0', 7411, '0.0.0.0', 0),
      record(4, 1, '198.18.0.2', 7411, '198.18.0.254', 50000), // the controller's connection to the agent
      record(4, 6, '198.18.0.2', 7411, '198.18.0.254', 50001), // a refused one, closed by the agent first
      record(4, 1, '198.18.0.2', 8080, '198.18.0.1', 40000),
    ];
    const ignoring = await new TcpCensusTaker([8080], [7411]).takeFrom(rowsOf(rows));
    expect(ignoring.total).toEqual({ LISTEN: 1, ESTABLISHED: 1 });
    expect(ignoring.sockets).toBe(2);
    expect(ignoring.peers.listen).toEqual({ '198.18.0.1': { ESTABLISHED: 1 } });
    // The same rows without it: the control port's sockets are counted as the server side.
    const counting = await new TcpCensusTaker([8080]).takeFrom(rowsOf(rows));
    expect(counting.total).toEqual({ LISTEN: 2, ESTABLISHED: 2, TIME_WAIT: 1 });
  });
});
