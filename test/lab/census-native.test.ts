// The census counted in C (native/census.c) against the census counted in JavaScript over the very same
// netlink rows, and over /proc/net/tcp: the same table on a known population of sockets, IPv4, IPv4-mapped
// and IPv6, each role and peer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lab } from '../../src/lab/driver.ts';
import { buildLab, nodeInHost } from '../helpers/lab.ts';

describe('census counted in C', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await buildLab({ box: {} });
  });
  afterAll(() => lab?.teardown());

  it('gives the table the JavaScript census gives, through netlink and through /proc; refuses IPv6 peers, counted in JavaScript', () => {
    const { c, js, proc, cAgain, cost, refused, withIpv6 } = JSON.parse(nodeInHost(lab, 'box', 'census-both-ways.ts'));
    expect(c).toEqual(js);
    // Its CPU time on the pool thread (what the sampler's budget counts), within the time the call took.
    expect(cost.cpuMs).toBeGreaterThan(0);
    expect(cost.cpuMs).toBeLessThanOrEqual(cost.wallMs);
    expect(cAgain).toEqual(c);
    expect(proc).toEqual(c);
    // What the helper made first: 30 held and 20 client-closed to 8080, 10 IPv4 held to :: port 9000, 7 half-closed
    // to 9100, three listeners.
    expect(c.ephemeral).toEqual({ ESTABLISHED: 40, TIME_WAIT: 20, FIN_WAIT2: 7 });
    expect(c.listen).toEqual({ ESTABLISHED: 40, CLOSE_WAIT: 7, LISTEN: 3 });
    expect(c.total).toEqual({ ESTABLISHED: 80, TIME_WAIT: 20, FIN_WAIT2: 7, CLOSE_WAIT: 7, LISTEN: 3 });
    expect(c.sockets).toBe(117);
    expect(c.repeats).toBe(0);
    expect(c.peers.ephemeral).toEqual({
      '127.0.0.1:8080': { ESTABLISHED: 30, TIME_WAIT: 20 },
      '127.0.0.1:9000': { ESTABLISHED: 10 },
      '127.0.0.2:9100': { FIN_WAIT2: 7 },
    });
    // The IPv4-mapped clients of the :: listener count under their IPv4 address.
    expect(c.peers.listen).toEqual({ '127.0.0.1': { ESTABLISHED: 40, CLOSE_WAIT: 7 } });

    // Then 5 clients over ::1: both their ends have an IPv6 peer, which the addon does not count by peer.
    expect(refused).toEqual({
      code: 'IPV6_PEERS',
      message: '10 sockets have IPv6 peers, which only the JavaScript census counts by peer',
    });
    expect(withIpv6.counting).toBe('js');
    expect(withIpv6.refusedBecause).toMatch(/^IPV6_PEERS: /);
    expect(withIpv6.counted).toEqual(withIpv6.js);
    expect(withIpv6.js.sockets).toBe(127);
    expect(withIpv6.js.peers.ephemeral['[::1]:9000']).toEqual({ ESTABLISHED: 5 });
    expect(withIpv6.js.peers.listen['::1']).toEqual({ ESTABLISHED: 5 });
  });
});
