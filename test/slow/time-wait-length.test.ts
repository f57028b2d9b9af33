// Slow kernel-timer test (its own project: npm run test:slow). TIME_WAIT lasts TCP_TIMEWAIT_LEN, 60 s,
// whatever tcp_fin_timeout says: the myth this lab exists to settle.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lab } from '../../src/lab/driver.ts';
import { buildLab, inHost, nodeInHost } from '../helpers/lab.ts';

const N = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const timeWait = (lab: Lab) => JSON.parse(nodeInHost(lab, 'box', 'sample-once.ts')).tcp.total.TIME_WAIT ?? 0;

describe('TIME_WAIT length', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await buildLab({ box: { sysctls: { 'net.ipv4.tcp_fin_timeout': 5, 'net.ipv4.tcp_rfc1337': 1 } } });
  });
  afterAll(() => lab?.teardown());

  it('outlives tcp_fin_timeout=5 by far and ends after 60 s', async () => {
    nodeInHost(lab, 'box', 'make-time-wait.ts', [String(N)]);
    expect(timeWait(lab)).toBe(N);
    await sleep(15_000);
    expect(timeWait(lab)).toBe(N);
    // The kernel's own timers: every entry still has more than 30 s to go, 15 s in.
    const timers =
      inHost(lab, 'box', 'ss', ['-H', '-tano', 'state', 'time-wait']).match(/timer:\(timewait,(\d+)sec/g) ?? [];
    expect(timers).toHaveLength(N);
    for (const t of timers) expect(Number(/(\d+)sec/.exec(t)![1])).toBeGreaterThan(30);
    await sleep(50_000);
    expect(timeWait(lab)).toBe(0);
  }, 120_000);
});
