// --scale: which hosts can be copied, what the copies are named, and what is refused.
import { describe, expect, it } from 'vitest';
import { PlanValidationError } from '../../src/core/errors.ts';
import { loadPlan } from '../../src/plan/load-plan.ts';
import { parseScaleFlags } from '../../src/plan/replicas.ts';

describe('--scale', () => {
  it('copies a client host and its load actors, each copy on its own address', async () => {
    const plan = await loadPlan('short-conn', {}, { scale: { client: 3 } });
    expect(Object.keys(plan.hosts)).toEqual(['client', 'server', 'client_2', 'client_3']);
    expect(plan.hosts['client_3']!.sysctls).toEqual(plan.hosts['client']!.sysctls);
    expect(new Set(Object.values(plan.hosts).map((h) => h.address)).size).toBe(4);
    expect(plan.actors['flood_2']).toMatchObject({ host: 'client_2', connect: plan.actors['flood']!.connect });
    expect(plan.replicas).toEqual({
      client: { hosts: ['client', 'client_2', 'client_3'], actors: { flood: ['flood', 'flood_2', 'flood_3'] } },
    });
  });

  it('refuses a server host, a host that does not exist, a lab of networks and a count out of range, all at once', async () => {
    const err = await loadPlan('short-conn', {}, { scale: { server: 2, nobody: 2 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanValidationError);
    const text = (err as Error).message;
    expect(text).toMatch(/host server runs a server; only a host of load actors/);
    expect(text).toMatch(/no host "nobody"/);
    await expect(loadPlan('nat-single-source', {}, { scale: { c1: 2 } })).rejects.toThrow(
      /declares networks cannot be scaled/,
    );
    await expect(loadPlan('short-conn', {}, { scale: { client: 201 } })).rejects.toThrow(/not a count from 1 to 200/);
  });

  it('takes up to 200 replicas of a host one agent serves with others, and past 16 no other', async () => {
    const plan = await loadPlan('short-conn', { engine: 'native' }, { scale: { client: 200 } });
    expect(Object.keys(plan.hosts)).toHaveLength(201);
    expect(new Set(Object.values(plan.hosts).map((h) => h.address)).size).toBe(201);
    expect(plan.actors['flood_200']).toMatchObject({ host: 'client_200', options: { engine: 'native', workers: 1 } });
    await expect(loadPlan('short-conn', {}, { scale: { client: 17 } })).rejects.toThrow(
      /more than 16 replicas need hosts that one agent serves together/,
    );
    expect(Object.keys((await loadPlan('short-conn', {}, { scale: { client: 16 } })).hosts)).toHaveLength(17);
  });

  it('reads host=N flags and names a malformed one', () => {
    const problems: string[] = [];
    expect(parseScaleFlags(['client=3', 'client2=1'], problems)).toEqual({ client: 3, client2: 1 });
    expect(parseScaleFlags(['client', 'Client=2', 'client=-1', 'client=3;x'], problems)).toEqual({});
    expect(problems).toHaveLength(4);
  });
});
