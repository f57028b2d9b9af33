// The http-client's closed model (users with think time) at plan time: its offered load in the connection model,
// and the options it refuses together with it.
import { describe, expect, it } from 'vitest';
import { defineScenario, type ScenarioSpec } from '../../src/core/scenario.ts';
import { resolvePlan } from '../../src/plan/load-plan.ts';

const planOf = (client: Record<string, unknown>) =>
  resolvePlan(
    defineScenario({
      name: 'inline',
      description: 'd',
      params: {},
      build: () =>
        ({
          hosts: { client: {}, server: {} },
          actors: {
            web: { kind: 'http-server', host: 'server', port: 8080 },
            client: { kind: 'http-client', host: 'client', target: 'web', ...client },
          },
        }) as ScenarioSpec,
    }),
    'x.ts',
    {},
  );

describe('http-client users (closed model with think time)', () => {
  it('users make a closed-model load of that concurrency; no target rate is claimed', () => {
    const plan = planOf({ users: 8, connections: 8, think: '5s', pace: 'round', count: 24, duration: '20s' });
    expect(plan.actors.client!.connections!.load).toEqual({
      model: 'closed',
      concurrency: 8,
      durationMs: 20_000,
      count: 24,
    });
  });

  it('a burst or idle gaps beside users, think without users, and more users than connections are refused together', () => {
    expect(() => planOf({ users: 8, connections: 4, burst: '8 every 5s', idle: '6s every 20' })).toThrow(
      /client\.burst: an open-model pattern[\s\S]*client\.idle: an open-model pattern[\s\S]*client\.users: 8 users need as many connections \(connections 4\)/,
    );
    expect(() => planOf({ think: '5s' })).toThrow(/client\.think: the closed model's wait: set users too/);
  });
});
