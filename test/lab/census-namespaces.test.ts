// One process counting the sockets of other lab hosts: a sock_diag socket made on a thread that entered the
// host's namespace lists that host's sockets only, the same as a census taken inside the host.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lab } from '../../src/lab/driver.ts';
import { NativeCensus } from '../../src/sampler/native-census.ts';
import { NetlinkRows } from '../../src/sampler/netlink-rows.ts';
import { TcpCensusTaker } from '../../src/sampler/proc-net-tcp.ts';
import { SockDiagSocket } from '../../src/sampler/sock-diag.ts';
import { buildLab, nodeInHost } from '../helpers/lab.ts';

const N = 120;

describe('census of another namespace', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await buildLab({ busy: {}, idle: {} });
    expect(nodeInHost(lab, 'busy', 'make-time-wait.ts', [String(N), '8080']).trim()).toBe(String(N));
  });
  afterAll(() => lab?.teardown());

  it('counts the host it entered, and only that host, as a census inside it does', async () => {
    const busy = NativeCensus.open([], lab.hosts.busy!.location);
    const idle = NativeCensus.open([], lab.hosts.idle!.location);
    const socket = SockDiagSocket.open(lab.hosts.busy!.location);
    try {
      const [fromHere, fromIdle, inJs] = [
        await busy.take(),
        await idle.take(),
        await new TcpCensusTaker().takeFrom(new NetlinkRows(socket)),
      ];
      const inside = JSON.parse(nodeInHost(lab, 'busy', 'sample-once.ts'));
      expect(fromHere.total).toEqual({ TIME_WAIT: N });
      expect(fromHere.peers.ephemeral).toEqual({ '127.0.0.1:8080': { TIME_WAIT: N } });
      expect(fromIdle.total).toEqual({});
      expect(fromIdle.sockets).toBe(0);
      expect(inJs).toEqual(fromHere);
      expect(inside.tcp.total).toEqual(fromHere.total);
      expect(inside.tcp.peers).toEqual(fromHere.peers);
    } finally {
      busy.close();
      idle.close();
      socket.close();
    }
  });

  it('refuses a name that is not a namespace name, and says ENOENT for one that does not exist', () => {
    expect(() => NativeCensus.open([], '../../proc/1/ns/net')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => NativeCensus.open([], `${lab.id}-nosuchhost`)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});
