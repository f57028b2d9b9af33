// A sample's time is taken once its reads have returned (SAMPLE_STAMP 'reads-ended'): a sample stamped before an
// event cannot hold what the event caused. Reads this process's own /proc/net files; the clock is driven by the test.
import { afterEach, describe, expect, it } from 'vitest';
import { PROC_NET } from '../../src/sampler/proc-file.ts';
import { SAMPLE_STAMP, SocketSampler } from '../../src/sampler/socket-sampler.ts';

const originals = new Map(Object.entries(PROC_NET).map(([name, file]) => [name, file.read]));
afterEach(() => {
  for (const [name, file] of Object.entries(PROC_NET)) file.read = originals.get(name)!;
});

describe('SocketSampler', () => {
  it('stamps a sample after every one of its reads has returned, and once', async () => {
    const order: string[] = [];
    for (const [name, file] of Object.entries(PROC_NET)) {
      const read = originals.get(name)!.bind(file);
      file.read = async () => {
        const buf = await read();
        order.push(name);
        return buf;
      };
    }
    let clock = 0;
    const sampler = new SocketSampler(
      100,
      () => {
        order.push('now');
        return (clock += 10);
      },
      () => undefined,
    );
    // The census reads /proc/net/tcp{,6} only where netlink is refused; the cheap counters are read at every sample.
    const { source } = await sampler.censusSource();
    const sample = await sampler.sampleOnce();
    expect(sample.census?.source).toBe(source);
    expect(SAMPLE_STAMP).toBe('reads-ended');
    expect(order.filter((x) => x === 'now')).toHaveLength(1);
    expect(order.at(-1)).toBe('now');
    expect(new Set(order.slice(0, -1))).toEqual(
      new Set([...(source === 'proc' ? ['tcp', 'tcp6'] : []), 'sockstat', 'netstat', 'snmp']),
    );
    expect(sample.t).toBe(10);
  });

  it('says what its stop still waits on when the stop overruns, instead of holding the agent', async () => {
    // netstat's read never returns: the tick in flight cannot end, and neither can the stop. The census that tick
    // started has long ended by then, so the stop names no census.
    PROC_NET.netstat.read = () => new Promise(() => undefined);
    let clock = 0;
    const sampler = new SocketSampler(
      100,
      () => (clock += 1),
      () => undefined,
    );
    await sampler.censusSource();
    sampler.start();
    await new Promise((r) => setTimeout(r, 200));
    await expect(sampler.stop(50)).rejects.toMatchObject({
      code: 'SAMPLER_STUCK',
      message: 'the sampler did not stop within 50 ms: no census is running: a tick never ended',
    });
  });
});
