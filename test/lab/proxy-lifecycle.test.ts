// The proxy's engine processes (nginx master and workers, haproxy) die with their agent in every case: a graceful
// stop (close()), stdin closed (destroy()), and the agent SIGKILLed (nothing of ours runs then: only the kernel's
// parent-death signal and pid-namespace teardown can do it). Processes are found by the lab host's network
// namespace, so nothing else on the machine is looked at or touched.
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AgentCommand, AgentEvent } from '../../src/agent/protocol.ts';
import { resolvePlan } from '../../src/plan/load-plan.ts';
import type { Plan } from '../../src/core/plan.ts';
import { defineScenario } from '../../src/core/scenario.ts';
import type { Lab } from '../../src/lab/driver.ts';
import { netnsDriver } from '../../src/lab/netns-driver.ts';
import { inUserNamespace } from '../../src/core/user-namespace.ts';
import { until, running } from '../helpers/lab.ts';
import { describeWithTools } from '../helpers/tools.ts';

function planFor(engine: 'nginx' | 'haproxy'): Plan {
  return resolvePlan(
    defineScenario({
      name: `proxy-lifecycle-${engine}`,
      description: 'test',
      params: {},
      build: () => ({
        hosts: { box: {} },
        actors: {
          web: { kind: 'http-server', host: 'box', port: 8080 },
          px: { kind: 'proxy', host: 'box', engine, port: 8081, upstreams: 'web' },
        },
      }),
    }),
    'test',
    {},
  );
}

/** Processes whose network namespace is the lab host's, with their comm. */
function processesIn(namespace: string): { pid: number; comm: string }[] {
  const ino = statSync(`/run/netns/${namespace}`).ino;
  const out: { pid: number; comm: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (statSync(`/proc/${entry}/ns/net`).ino === ino)
        out.push({ pid: Number(entry), comm: readFileSync(`/proc/${entry}/comm`, 'utf8').trim() });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

function startAgent(lab: Lab): {
  child: ChildProcess;
  send: (c: AgentCommand) => void;
  next: (type: AgentEvent['type']) => Promise<AgentEvent>;
} {
  // The netns driver's agent is a child process of this one.
  const child = lab.spawnAgent('box') as ChildProcess;
  const events: AgentEvent[] = [];
  let rest = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    rest += chunk.toString();
    let nl: number;
    while ((nl = rest.indexOf('\n')) !== -1) {
      events.push(JSON.parse(rest.slice(0, nl)) as AgentEvent);
      rest = rest.slice(nl + 1);
    }
  });
  child.stdin!.on('error', () => undefined);
  const send = (c: AgentCommand) => child.stdin!.write(`${JSON.stringify(c)}\n`);
  const next = (type: AgentEvent['type']) =>
    until(() => {
      const fatal = events.find((e) => e.type === 'fatal');
      if (fatal) throw new Error(`agent failed: ${(fatal as { message: string }).message}`);
      return events.find((e) => e.type === type);
    }, `agent event ${type}`);
  return { child, send, next };
}

async function serving(lab: Lab, plan: Plan) {
  const agent = startAgent(lab);
  await agent.next('hello');
  agent.send({
    cmd: 'init',
    host: plan.hosts.box!,
    actors: Object.values(plan.actors),
    intervalMs: 100,
    t0: Date.now(),
    deadlineMs: 60_000,
  });
  await agent.next('ready');
  agent.send({ cmd: 'serve' });
  await agent.next('serving');
  return agent;
}

const exited = (child: ChildProcess) =>
  new Promise<void>((r) =>
    child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r()),
  );

for (const engine of ['nginx', 'haproxy'] as const)
  describeWithTools([engine], `${engine} processes end with their agent`, () => {
    let lab: Lab;
    let plan: Plan;
    let ns: string;
    beforeAll(async () => {
      plan = planFor(engine);
      lab = await netnsDriver.build(plan, () => undefined);
      ns = lab.hosts.box!.location;
    });
    afterAll(() => lab?.teardown());

    const engineProcesses = () =>
      processesIn(ns).filter((p) => p.comm === engine || p.comm === 'unshare' || p.comm === 'setpriv');

    it('on a graceful stop (close())', async () => {
      const agent = await serving(lab, plan);
      expect(engineProcesses().filter((p) => p.comm === engine).length).toBeGreaterThanOrEqual(1);
      agent.send({ cmd: 'stop' });
      await agent.next('stopped');
      await exited(agent.child);
      await until(() => processesIn(ns).length === 0, `every process in ${ns} to end`);
    });

    it('when its stdin closes (destroy())', async () => {
      const agent = await serving(lab, plan);
      expect(engineProcesses().filter((p) => p.comm === engine).length).toBeGreaterThanOrEqual(1);
      agent.child.stdin!.end();
      await exited(agent.child);
      await until(() => processesIn(ns).length === 0, `every process in ${ns} to end`);
    });

    it('when the agent is SIGKILLed', async () => {
      const agent = await serving(lab, plan);
      const before = engineProcesses();
      // As the machine's root nginx runs a master and a worker: the worker is what a SIGKILLed master would leave behind.
      expect(before.filter((p) => p.comm === engine).length).toBe(engine === 'nginx' && !inUserNamespace() ? 2 : 1);
      agent.child.kill('SIGKILL');
      await exited(agent.child);
      await until(() => processesIn(ns).length === 0, `every process in ${ns} to end`);
      // A dying process leaves its namespaces (exit_task_namespaces) before it becomes a zombie: /proc can still show
      // it running for a moment after `ip netns pids` no longer lists it. Every one must end, not linger.
      await until(() => before.every((p) => !running(p.pid)), `every engine process of ${ns} to end`);
    });
  });
