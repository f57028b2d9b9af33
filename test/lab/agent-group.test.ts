// Six replicas of a native short-conn client served by one agent process from outside their namespaces: each
// replica's figures are its own kernel's (its port budget in TIME_WAIT, its EADDRNOTAVAIL, its counters and
// sysctls), the lab runs two agent processes (the group and the server's own), and nothing is left after.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/controller/run-scenario.ts';
import { resolve } from 'node:path';
import { PACKAGE_ROOT } from '../../src/core/paths.ts';
import { loadPlan } from '../../src/plan/load-plan.ts';
import { agentPids, labNamespaces, type TestReport, tempDir } from '../helpers/lab.ts';

const REPLICAS = 6;
const PORTS = 50;
const COUNT = 80;
const MANY_CLIENTS = resolve(PACKAGE_ROOT, 'examples/many-clients/scenario.ts');

describe('an agent of many hosts', () => {
  let report: TestReport;
  let mostAgents = 0;
  let timer: NodeJS.Timeout;
  beforeAll(async () => {
    timer = setInterval(() => (mostAgents = Math.max(mostAgents, agentPids(process.pid).length)), 50);
    const plan = await loadPlan(MANY_CLIENTS, {
      replicas: String(REPLICAS),
      ports: String(PORTS),
      count: String(COUNT),
    });
    ({ report } = (await runScenario(plan, { outDir: tempDir() })) as {
      report: TestReport;
    });
    clearInterval(timer);
  });
  afterAll(() => clearInterval(timer));

  it("gives each replica its own kernel's figures: its port budget, its EADDRNOTAVAIL, its counters", () => {
    const replicas = ['client', ...Array.from({ length: REPLICAS - 1 }, (_, i) => `client_${i + 2}`)];
    for (const [i, host] of replicas.entries()) {
      const actor = report.actors[i === 0 ? 'flood' : `flood_${i + 1}`]!;
      expect(actor.host).toBe(host);
      expect(actor.attempts).toBe(COUNT);
      expect(actor.ok).toBe(PORTS);
      expect(actor.errors).toEqual({
        EADDRNOTAVAIL: expect.objectContaining({ count: COUNT - PORTS, syscalls: { connect: COUNT - PORTS } }),
      });
      const h = report.hosts[host]!;
      expect(h.sysctls['net.ipv4.ip_local_port_range']).toBe(`40000 ${40000 + PORTS - 1}`);
      expect(h.final.TIME_WAIT).toBe(PORTS);
      expect(h.counters.delta['Tcp.ActiveOpens']).toBe(PORTS);
      expect(h.counters.delta['TcpExt.TW']).toBe(PORTS);
      expect(h.census?.source).toBe('netlink');
    }
    expect(report.hosts['server']!.counters.delta['Tcp.PassiveOpens']).toBeGreaterThanOrEqual(REPLICAS * PORTS);
  });

  it("ran the replicas in one agent process beside the server's own, and left no process or namespace", () => {
    expect(mostAgents).toBe(2);
    expect(agentPids(process.pid)).toEqual([]);
    expect(labNamespaces(process.pid)).toEqual([]);
  });
});
