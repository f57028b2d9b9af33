// Which hosts an agent of many hosts serves, and how many descriptors each may hold in the group's one process.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fdNeed, groupable, groupFdBudget } from '../../src/lab/groupable-hosts.ts';
import { loadPlan } from '../../src/plan/load-plan.ts';

const MANY = fileURLToPath(new URL('../fixtures/scenarios/many-clients.ts', import.meta.url));

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
});
