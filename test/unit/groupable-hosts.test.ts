// Which hosts an agent of many hosts serves, and how many descriptors each may hold in the group's one process.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  assignGroups,
  fdNeed,
  groupable,
  groupCount,
  groupFdBudget,
  hostsPerGroup,
} from '../../src/lab/groupable-hosts.ts';
import { loadPlan } from '../../src/plan/load-plan.ts';

const MANY = fileURLToPath(new URL('../../examples/many-clients/scenario.ts', import.meta.url));

describe('groupable hosts', () => {
  it("counts a flood's most connections at once toward the group's open-files limit", async () => {
    const closed = await loadPlan(MANY, { replicas: '3' });
    expect(groupable(closed, 'client_2')).toBe(true);
    expect(groupable(closed, 'server')).toBe(false);
    // Closed model, concurrency 1: one connection beside the host's own tables and sockets.
    expect(fdNeed(closed, 'client_2')).toBe(17);
    const open = await loadPlan('short-conn', { engine: 'native' });
    expect(groupable(open, 'client')).toBe(true);
    // Open model: as many as maxInFlight (1,000 by default) may be in flight.
    expect(fdNeed(open, 'client')).toBe(1016);
  });

  it("plans for most of the hard open-files limit the group's process inherits", () => {
    const hard = execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim();
    const expected = hard === 'unlimited' ? 1_048_576 : Number(hard);
    expect(groupFdBudget()).toBe(Math.floor(expected * 0.8));
  });

  it('shares the hosts between one group per core, at least 25 hosts a group, fewer where their descriptors would pass the budget, and none for one host', async () => {
    const plan = await loadPlan(MANY, { replicas: '120' });
    const names = Object.keys(plan.hosts);
    const sizes = (groupOf: Map<string, number>) =>
      Array.from({ length: groupCount(groupOf) }, (_, k) => [...groupOf.values()].filter((g) => g === k).length);
    const twoCores = assignGroups(plan, names, 1_000_000, 2);
    expect(twoCores.has('server')).toBe(false);
    expect(twoCores.size).toBe(120);
    expect(sizes(twoCores)).toEqual([60, 60]);
    expect(sizes(assignGroups(plan, names, 1_000_000, 3))).toEqual([40, 40, 40]);
    // Eight cores would make groups of 15: each takes 25 instead.
    expect(sizes(assignGroups(plan, names, 1_000_000, 8))).toEqual([25, 25, 25, 25, 20]);
    expect(hostsPerGroup(200, 2)).toBe(100);
    expect(hostsPerGroup(10, 4)).toBe(25);
    // 17 descriptors a host: a budget of 170 holds 10 hosts a group.
    expect(groupCount(assignGroups(plan, names, 170, 2))).toBe(12);
    const one = await loadPlan(MANY, { replicas: '1' });
    expect(assignGroups(one, Object.keys(one.hosts), 1_000_000, 2).size).toBe(0);
  });
});
