// The lab of 200 hosts: 200 client replicas on the native engine served by agents of many hosts, each
// replica's exhaustion figures its own kernel's, and nothing left after.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../src/controller/run-scenario.ts';
import { PACKAGE_ROOT } from '../../src/core/paths.ts';
import { hostsPerGroup } from '../../src/lab/groupable-hosts.ts';
import { loadPlan } from '../../src/plan/load-plan.ts';
import { agentPids, labNamespaces, type TestReport, tempDir } from '../helpers/lab.ts';

const REPLICAS = 200;
const PORTS = 20;
const COUNT = 30;
const MANY_CLIENTS = resolve(PACKAGE_ROOT, 'examples/many-clients/scenario.ts');

describe('a lab of 200 client hosts', () => {
  it("runs, each replica with one client's exhaustion figures, in a few agent processes, leaving nothing", async () => {
    const plan = await loadPlan(MANY_CLIENTS, {
      replicas: String(REPLICAS),
      ports: String(PORTS),
      count: String(COUNT),
    });
    let mostAgents = 0;
    const timer = setInterval(() => (mostAgents = Math.max(mostAgents, agentPids(process.pid).length)), 100);
    let report: TestReport;
    try {
      ({ report } = (await runScenario(plan, { outDir: tempDir() })) as { report: TestReport });
    } finally {
      clearInterval(timer);
    }
    const floods = Object.entries(report.actors).filter(([name]) => name.startsWith('flood'));
    expect(floods).toHaveLength(REPLICAS);
    for (const [, actor] of floods) {
      const h = report.hosts[actor.host]!;
      expect([actor.ok, actor.errors['EADDRNOTAVAIL']?.count, h.final.TIME_WAIT]).toEqual([
        PORTS,
        COUNT - PORTS,
        PORTS,
      ]);
      expect(h.counters.delta['Tcp.ActiveOpens']).toBe(PORTS);
    }
    // The groups and the server's own agent.
    expect(mostAgents).toBeLessThanOrEqual(Math.ceil(REPLICAS / hostsPerGroup(REPLICAS)) + 1);
    expect(agentPids(process.pid)).toEqual([]);
    expect(labNamespaces(process.pid)).toEqual([]);
  }, 300_000);
});
