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
