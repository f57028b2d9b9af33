// --scale: which hosts can be copied, what the copies are named, and what is refused.
import { describe, expect, it } from 'vitest';
import { PlanValidationError } from '../../src/core/errors.ts';
import { loadPlan, resolvePlan } from '../../src/plan/load-plan.ts';
import { defineScenario } from '../../src/core/scenario.ts';
import { LAB_HOST_NAME } from '../../src/core/host-names.ts';
import { parseScaleFlags } from '../../src/plan/replicas.ts';
import { metricPathProblem } from '../../src/core/metric-paths.ts';
import { metricNamesOf } from '../../src/plan/metric-names.ts';
import { replicaTotals } from '../../src/report/replicas.ts';
import type { ActorReport, HostReport } from '../../src/report/report.ts';

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

  it('gives a --sysctl of the scaled host to every replica, and one naming a replica to that replica alone', async () => {
    const sysctls = ['client:net.ipv4.tcp_fin_timeout=5', 'client_3:net.ipv4.tcp_tw_reuse=1'];
    const plan = await loadPlan('short-conn', { twReuse: '0' }, { scale: { client: 3 }, sysctls });
    const of = (host: string) => plan.hosts[host]!.sysctls;
    expect(['client', 'client_2', 'client_3'].map((h) => of(h)['net.ipv4.tcp_fin_timeout'])).toEqual(['5', '5', '5']);
    expect(['client', 'client_2', 'client_3'].map((h) => of(h)['net.ipv4.tcp_tw_reuse'])).toEqual(['0', '0', '1']);
    // The plan keeps the flags as given: the report says what came from the command line.
    expect(plan.sysctlFlags).toEqual(sysctls);
    await expect(
      loadPlan('short-conn', {}, { scale: { client: 3 }, sysctls: ['client_4:net.ipv4.tcp_tw_reuse=1'] }),
    ).rejects.toThrow('no host "client_4" (hosts: client, server, client_2, client_3)');
    await expect(loadPlan('short-conn', {}, { sysctls: ['client_2:net.ipv4.tcp_tw_reuse=1'] })).rejects.toThrow(
      'no host "client_2" (hosts: client, server)',
    );
  });

  it("keeps the scenario's own replica count where --scale replaced it, and nothing where they agree", async () => {
    const example = 'examples/many-clients/scenario.ts';
    const replaced = await loadPlan(example, { replicas: '5' }, { scale: { client: 8 } });
    expect(replaced.replicas!['client']).toMatchObject({ scenarioReplicas: 5 });
    expect(replaced.replicas!['client']!.hosts).toHaveLength(8);
    const same = await loadPlan(example, { replicas: '5' }, { scale: { client: 5 } });
    expect(same.replicas!['client']!.scenarioReplicas).toBeUndefined();
    const unscaled = await loadPlan(example, { replicas: '5' });
    expect(unscaled.replicas!['client']!.scenarioReplicas).toBeUndefined();
  });

  it("refuses to replace a scenario's own host of a replica's name", () => {
    const scenario = defineScenario({
      name: 'named-like-replicas',
      description: 'a host with the name a replica would take',
      params: {},
      build: () => ({
        hosts: { client: {}, client_2: {}, server: {} },
        actors: {
          web: { kind: 'http-server', host: 'server', port: 8080 },
          flood: { kind: 'short-conn-client', host: 'client', target: 'web', duration: '1s' },
        },
      }),
    });
    expect(() => resolvePlan(scenario, 'test', {}, { scale: { client: 3 } })).toThrow(
      'replicas of host client: the scenario has its own host client_2, the name of a replica',
    );
  });

  it('lets watch --run read a lab of up to 200 replicas, and no other suffix', () => {
    for (const name of ['client', 'client_2', 'client_99', 'client_200']) expect(LAB_HOST_NAME.test(name)).toBe(true);
    for (const name of ['client_0', 'client_1000', 'client_-1', '--help']) expect(LAB_HOST_NAME.test(name)).toBe(false);
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

describe("a scaled host's totals in the report", () => {
  it('adds up the copies, names the worst replica and counts the replicas that met each error', async () => {
    const plan = await loadPlan('short-conn', {}, { scale: { client: 3 } });
    const host = (timeWait: number) => ({ peak: { total: { TIME_WAIT: timeWait } } }) as unknown as HostReport;
    const flood = (ok: number, errors: Record<string, number>) =>
      ({
        attempts: ok + Object.values(errors).reduce((a, b) => a + b, 0),
        connected: ok,
        ok,
        missedStarts: 0,
        errors: Object.fromEntries(Object.entries(errors).map(([code, count]) => [code, { count }])),
      }) as unknown as ActorReport;
    const totals = replicaTotals(
      plan,
      { client: host(500), client_2: host(700), client_3: host(300) },
      {
        flood: flood(500, { EADDRNOTAVAIL: 20 }),
        flood_2: flood(500, { EADDRNOTAVAIL: 5, REQUEST_TIMEOUT: 1 }),
        flood_3: flood(500, {}),
      },
    )!;
    expect(totals['client']).toMatchObject({ timeWaitPeaks: [500, 700, 300], timeWaitPeakMax: 700 });
    expect(totals['client']!.actors['flood']).toMatchObject({
      ok: 1500,
      errors: { EADDRNOTAVAIL: 25, REQUEST_TIMEOUT: 1 },
      replicasWithErrors: { EADDRNOTAVAIL: 2, REQUEST_TIMEOUT: 1 },
    });
  });

  it('lets a threshold name the worst replica and the replicas with an error, and says what to drop from a path that goes past a metric', async () => {
    const names = metricNamesOf(await loadPlan('short-conn', {}, { scale: { client: 3 } }));
    expect(metricPathProblem('replicas.client.timeWaitPeakMax', names, 'threshold')).toBeUndefined();
    expect(
      metricPathProblem('replicas.client.actors.flood.replicasWithErrors.EADDRNOTAVAIL', names, 'threshold'),
    ).toBeUndefined();
    expect(metricPathProblem('replicas.client.actors.flood.errors.EADDRNOTAVAIL.count', names, 'threshold')).toBe(
      'replicas.client.actors.flood.errors.EADDRNOTAVAIL.count: replicas.client.actors.flood.errors.EADDRNOTAVAIL is a metric itself (errors by code, all replicas, errors); drop ".count"',
    );
  });
});
