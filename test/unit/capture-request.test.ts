// --capture as a plan: hosts checked against the plan's, the size cap parsed and bounded, tcpdump declared.
import { describe, expect, it } from 'vitest';
import { defineScenario } from '../../src/core/scenario.ts';
import { parseByteSize } from '../../src/plan/capture-request.ts';
import { resolvePlan } from '../../src/plan/load-plan.ts';

const scenario = defineScenario({
  name: 'two-hosts',
  description: 'test',
  params: {},
  build: () => ({ hosts: { client: {}, server: {} }, actors: {} }),
});
const plan = (capture: { hosts: string; full?: boolean; maxSize?: string }) =>
  resolvePlan(scenario, 'test', {}, { capture });
const problems = (capture: { hosts: string; maxSize?: string }) => {
  try {
    plan(capture);
    return [];
  } catch (err) {
    return (err as { problems?: string[] }).problems ?? [(err as Error).message];
  }
};

describe('--capture in the plan', () => {
  it('reads sizes in decimal and binary units, and nothing else', () => {
    expect([
      parseByteSize('64MB'),
      parseByteSize('500kB'),
      parseByteSize('1GiB'),
      parseByteSize('2.5 MB'),
      parseByteSize('4096'),
    ]).toEqual([64e6, 5e5, 2 ** 30, 2.5e6, 4096]);
    for (const bad of ['64 MBs', '-1MB', 'MB', '1e6', '64M B'])
      expect(() => parseByteSize(bad)).toThrow(/is not a size/);
  });

  it('records the hosts once each, the snaplen of headers or whole packets, the cap, and tcpdump among the tools', () => {
    expect(plan({ hosts: 'server, client,server' }).capture).toEqual({
      hosts: ['server', 'client'],
      snaplen: 160,
      maxBytes: 64e6,
    });
    expect(plan({ hosts: 'client', full: true, maxSize: '200MB' }).capture).toEqual({
      hosts: ['client'],
      snaplen: 262_144,
      maxBytes: 2e8,
    });
    expect(plan({ hosts: 'client' }).tools).toContain('tcpdump');
    expect(resolvePlan(scenario, 'test', {}).capture).toBeUndefined();
  });

  it("lists every problem at once: unknown hosts with the plan's, no host, a cap out of bounds", () => {
    expect(problems({ hosts: 'client,db,cache' })).toEqual([
      '--capture: no host "db" (hosts: client, server)',
      '--capture: no host "cache" (hosts: client, server)',
    ]);
    expect(problems({ hosts: ' , ' })).toEqual(['--capture: name the hosts to capture on (hosts: client, server)']);
    expect(problems({ hosts: 'client', maxSize: '10kB' })).toEqual(['--capture-max 10kB: from 100kB to 4GB']);
    expect(problems({ hosts: 'client', maxSize: 'lots' })).toEqual([
      '--capture-max: "lots" is not a size: use a number with kB, MB, GB (or KiB, MiB, GiB), e.g. "64MB"',
    ]);
  });
});
