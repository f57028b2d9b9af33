import { describe, expect, it } from 'vitest';
import { PlanValidationError } from '../../src/core/errors.ts';
import { defineScenario, type ScenarioSpec } from '../../src/core/scenario.ts';
import { finishPlan, resolvePlan, resolveScenarioPlan } from '../../src/plan/load-plan.ts';

const scenario = (spec: ScenarioSpec) =>
  defineScenario({ name: 'inline', description: 'd', params: {}, build: () => spec });

const withSysctls = (sysctls: Record<string, string | number>, thresholds: string[] = []): ScenarioSpec => ({
  hosts: { client: { sysctls }, server: {} },
  actors: {
    web: { kind: 'http-server', host: 'server', port: 8080 },
    flood: { kind: 'short-conn-client', host: 'client', target: 'web', rate: '100/s', duration: '1s' },
  },
  thresholds,
});

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    if (err instanceof PlanValidationError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('resolving a plan apart from the sysctl probe', () => {
  it('resolves without asking the kernel: a removed sysctl is only a name for the probe to check', () => {
    const resolution = resolveScenarioPlan(
      scenario(withSysctls({ 'net.ipv4.tcp_tw_recycle': 1, 'net.ipv4.tcp_tw_reuse': 0 })),
      'x.ts',
      {},
    );
    expect(resolution.sysctlNames).toEqual(['net.ipv4.tcp_tw_recycle', 'net.ipv4.tcp_tw_reuse']);
    expect([...resolution.problems.layout, ...resolution.problems.sysctls, ...resolution.problems.checks]).toEqual([]);
    expect(Object.isFrozen(resolution.plan)).toBe(false);
    const plan = finishPlan(resolution, []);
    expect(plan.hosts.client!.sysctls).toEqual({ 'net.ipv4.tcp_tw_recycle': '1', 'net.ipv4.tcp_tw_reuse': '0' });
    expect(Object.isFrozen(plan)).toBe(true);
  });

  it("lists the probe's problems after the sysctls' own and before the thresholds', as resolvePlan always has", () => {
    const spec = withSysctls({ 'net.ipv4.tcp_tw_reuse': 7, 'net.ipv4.tcp_tw_recycle': 1 }, ['nothing.here < 1']);
    const resolution = resolveScenarioPlan(scenario(spec), 'x.ts', {});
    const finished = problemsOf(() => finishPlan(resolution, ['the probe said so']));
    expect(finished).toEqual([...resolution.problems.sysctls, 'the probe said so', ...resolution.problems.checks]);
    expect(resolution.problems.sysctls).toEqual([
      expect.stringMatching(/^hosts\.client\.sysctls: net\.ipv4\.tcp_tw_reuse = 7: out of range/),
    ]);
    expect(resolution.problems.checks).toEqual([expect.stringMatching(/^thresholds: /)]);
    // resolvePlan runs the real probe in the same place.
    const real = problemsOf(() => resolvePlan(scenario(spec), 'x.ts', {}));
    expect(real).toEqual([
      ...resolution.problems.sysctls,
      expect.stringMatching(/net\.ipv4\.tcp_tw_recycle was removed in Linux 4\.12/),
      ...resolution.problems.checks,
    ]);
  });
});
