// Six replicas of a native short-conn client served by one agent process from outside their namespaces: each
// replica's figures are its own kernel's (its port budget in TIME_WAIT, its EADDRNOTAVAIL, its counters and
// sysctls; one replica tuned apart with --sysctl client_4:...), the lab runs two agent processes (the group and the
// server's own), and nothing is left after.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/controller/run-scenario.ts';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../../src/core/paths.ts';
import { loadPlan } from '../../src/plan/load-plan.ts';
import { agentPids, labNamespaces, type TestReport, tempDir } from '../helpers/lab.ts';

const REPLICAS = 6;
const PORTS = 50;
const COUNT = 80;
// client_4's own port range, from a --sysctl flag naming the replica.
const TUNED = 'client_4';
const TUNED_PORTS = 20;
const MANY_CLIENTS = resolve(PACKAGE_ROOT, 'examples/many-clients/scenario.ts');

describe('an agent of many hosts', () => {
  let report: TestReport;
  let summary: string;
  let mostAgents = 0;
  let timer: NodeJS.Timeout;
  beforeAll(async () => {
    timer = setInterval(() => (mostAgents = Math.max(mostAgents, agentPids(process.pid).length)), 50);
    const plan = await loadPlan(
      MANY_CLIENTS,
      { replicas: String(REPLICAS), ports: String(PORTS), count: String(COUNT) },
      { sysctls: [`${TUNED}:net.ipv4.ip_local_port_range=40000 ${40000 + TUNED_PORTS - 1}`] },
    );
    const dir = tempDir();
    ({ report } = (await runScenario(plan, { outDir: dir })) as {
      report: TestReport;
    });
    summary = readFileSync(join(dir, 'summary.md'), 'utf8');
    clearInterval(timer);
  });
  afterAll(() => clearInterval(timer));

  it("gives each replica its own kernel's figures: its port budget, its EADDRNOTAVAIL, its counters", () => {
    const replicas = ['client', ...Array.from({ length: REPLICAS - 1 }, (_, i) => `client_${i + 2}`)];
    for (const [i, host] of replicas.entries()) {
      const actor = report.actors[i === 0 ? 'flood' : `flood_${i + 1}`]!;
      const ports = host === TUNED ? TUNED_PORTS : PORTS;
      expect(actor.host).toBe(host);
      expect(actor.attempts).toBe(COUNT);
      expect(actor.ok).toBe(ports);
      expect(actor.errors).toEqual({
        EADDRNOTAVAIL: expect.objectContaining({ count: COUNT - ports, syscalls: { connect: COUNT - ports } }),
      });
      const h = report.hosts[host]!;
      expect(h.sysctls['net.ipv4.ip_local_port_range']).toBe(`40000 ${40000 + ports - 1}`);
      expect(h.final.TIME_WAIT).toBe(ports);
      expect(h.counters.delta['Tcp.ActiveOpens']).toBe(ports);
      expect(h.counters.delta['TcpExt.TW']).toBe(ports);
      expect(h.census?.source).toBe('netlink');
    }
    expect(report.hosts['server']!.counters.delta['Tcp.PassiveOpens']).toBeGreaterThanOrEqual(
      (REPLICAS - 1) * PORTS + TUNED_PORTS,
    );
    // The Replicas table names what the tuned replica read back unlike the first, and only there.
    expect(summary).toContain('| sysctls unlike client |');
    expect(summary).toMatch(/\| flood_4 \| client_4 \|.*\| net\.ipv4\.ip_local_port_range 40000 40019 \|/);
    expect(summary).toMatch(/\| flood_2 \| client_2 \|.*\| - \|/);
    expect(summary).toContain(
      `set on the command line: --sysctl ${TUNED}:net.ipv4.ip_local_port_range=40000 ${40000 + TUNED_PORTS - 1}`,
    );
  });

  it("ran the replicas in one agent process beside the server's own, and left no process or namespace", () => {
    expect(mostAgents).toBe(2);
    expect(agentPids(process.pid)).toEqual([]);
    expect(labNamespaces(process.pid)).toEqual([]);
  });
});
