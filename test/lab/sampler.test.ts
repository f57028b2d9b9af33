// The sampler against a known population: N client sockets left in TIME_WAIT in a fresh namespace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lab } from '../../src/lab/driver.ts';
import { buildLab, inHost, nodeInHost } from '../helpers/lab.ts';

const N = 300;

describe('socket sampler', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await buildLab({ box: { sysctls: { 'net.ipv4.tcp_rfc1337': 1 } } });
  });
  afterAll(() => lab?.teardown());

  it(`reports exactly ${N} TIME_WAIT sockets, as ss and the kernel's sockstat do`, () => {
    expect(nodeInHost(lab, 'box', 'make-time-wait.ts', [String(N), '8080']).trim()).toBe(String(N));
    const sample = JSON.parse(nodeInHost(lab, 'box', 'sample-once.ts'));
    const ss = inHost(lab, 'box', 'ss', ['-H', '-tan', 'state', 'time-wait']).split('\n').filter(Boolean);

    expect(sample.tcp.ephemeral.TIME_WAIT).toBe(N);
    expect(sample.tcp.total.TIME_WAIT).toBe(N);
    // The listener is gone and the server closed second: no TIME_WAIT on its port.
    expect(sample.tcp.listen.TIME_WAIT).toBeUndefined();
    expect(ss).toHaveLength(N);
    expect(sample.sockstat.tw).toBe(N);
    expect(sample.counters['Tcp.ActiveOpens']).toBe(N);
    expect(sample.counters['Tcp.PassiveOpens']).toBe(N);
  });

  it('counts the same sockets through netlink sock_diag and /proc/net/tcp, IPv4 and IPv6, each 4-tuple once', () => {
    const V6 = 40;
    expect(nodeInHost(lab, 'box', 'make-time-wait.ts', [String(V6), '8081', '::1']).trim()).toBe(String(V6));
    const netlink = JSON.parse(nodeInHost(lab, 'box', 'sample-once.ts'));
    const proc = JSON.parse(nodeInHost(lab, 'box', 'sample-once.ts', ['proc']));
    const ss = inHost(lab, 'box', 'ss', ['-H', '-tan', 'state', 'time-wait']).split('\n').filter(Boolean);
    const ss6 = inHost(lab, 'box', 'ss', ['-H', '-6tan', 'state', 'time-wait']).split('\n').filter(Boolean);

    expect(netlink.choice).toEqual({ source: 'netlink' });
    expect(netlink.census.source).toBe('netlink');
    expect(proc.choice).toEqual({ source: 'proc', refused: 'WAITLAB_CENSUS=proc' });
    expect(proc.census.source).toBe('proc');
    expect(ss).toHaveLength(N + V6);
    expect(ss6).toHaveLength(V6);
    for (const sample of [netlink, proc]) {
      expect(sample.tcp.total.TIME_WAIT).toBe(N + V6);
      expect(sample.sockets).toBe(N + V6);
      expect(sample.repeats).toBe(0);
      expect(sample.sockstat.tw).toBe(N + V6);
    }
    // IPv4 peers by ip:port: the IPv6 ones (::1) are in the totals only.
    expect(netlink.tcp.peers).toEqual(proc.tcp.peers);
    expect(netlink.tcp.peers.ephemeral['127.0.0.1:8080']).toEqual({ TIME_WAIT: N });
  });

  it('sees only its own namespace: a second host of the same lab shows none of them', async () => {
    const other = await buildLab({ empty: {} });
    try {
      const sample = JSON.parse(nodeInHost(other, 'empty', 'sample-once.ts'));
      expect(sample.tcp.total).toEqual({});
      expect(sample.sockstat.tw).toBe(0);
    } finally {
      await other.teardown();
    }
  });
});
