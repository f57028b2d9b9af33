// The agents' deadline counts from the lab being built, not from the run's start: a lab whose build takes
// longer than the deadline's margin (a first `podman build` of the lab image) must not end the run with
// "agent passed its deadline". The real agent (agent/agent.ts) runs in this process behind a fake driver whose
// build moves the monotonic clock both of them read (performance.now, one object for the whole process) further
// than any deadline; timers keep the real clock.
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runAgent } from '../../src/agent/agent.ts';
import type { AgentCommand } from '../../src/agent/protocol.ts';
import { runScenario } from '../../src/controller/run-scenario.ts';
import { defineScenario } from '../../src/core/scenario.ts';
import type { AgentChannel, Lab, LabDriver } from '../../src/lab/driver.ts';
import { resolvePlan } from '../../src/plan/load-plan.ts';
import { tempDir } from '../helpers/temp-dir.ts';

/** Longer than any deadline a run gives its agents (serve timeouts + load + tail + 60 s). */
const BUILD_MS = 60 * 60_000;

/** One host and no actors: the agent samples its namespace (this process's) from init to stop. */
const plan = resolvePlan(
  defineScenario({
    name: 'slow-build',
    description: 'a lab whose build outlasts the deadline margin',
    params: {},
    build: () => ({
      hosts: { solo: {} },
      actors: {},
    }),
  }),
  '(given in code)',
  {},
);

/** An agent of agent/agent.ts in this process, its stdin and stdout the channel's; records the commands it got. */
function inProcessAgent(commands: AgentCommand[]): AgentChannel {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const events = new EventEmitter();
  stdin.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) commands.push(JSON.parse(line) as AgentCommand);
  });
  const channel = {
    stdin,
    stdout,
    stderr: null,
    on(event: string, listener: (...args: unknown[]) => void) {
      events.on(event, listener);
      return channel;
    },
    kill: () => {
      stdin.end();
      return true;
    },
  } as AgentChannel;
  runAgent(
    stdin,
    (event) => stdout.write(`${JSON.stringify(event)}\n`),
    (code) => setImmediate(() => events.emit('exit', code, null)),
  );
  return channel;
}

/** performance.now, ahead of the real one by what the fake builds have taken. */
function clockMovedBy(): { advance(ms: number): void } {
  const realNow = performance.now.bind(performance);
  let ahead = 0;
  vi.spyOn(performance, 'now').mockImplementation(() => realNow() + ahead);
  return { advance: (ms) => (ahead += ms) };
}

function slowDriver(commands: AgentCommand[], clock: { advance(ms: number): void }): LabDriver {
  return {
    name: 'slow-build',
    describe: 'builds for an hour of a fake clock',
    preflight: () => [],
    withPrivileges: async () => undefined,
    reap: async () => [],
    async build(): Promise<Lab> {
      clock.advance(BUILD_MS);
      return {
        id: 'slow-build-lab',
        driver: 'slow-build',
        hosts: { solo: { name: 'solo', address: plan.hosts.solo!.address, location: 'this process' } },
        spawnAgent: () => inProcessAgent(commands),
        teardown: async () => undefined,
      };
    },
  };
}

afterEach(() => vi.restoreAllMocks());

describe("the agents' deadline", () => {
  it('counts from the lab being built: an hour-long build leaves the agents their whole deadline', async () => {
    const clock = clockMovedBy();
    const startedAt = performance.timeOrigin + performance.now();
    const commands: AgentCommand[] = [];
    const { report } = await runScenario(plan, { driver: slowDriver(commands, clock), outDir: tempDir(), outputs: [] });
    const init = commands.find((c) => c.cmd === 'init');
    expect(init).toBeDefined();
    if (init?.cmd !== 'init') return;
    expect(init.t0).toBeGreaterThanOrEqual(startedAt + BUILD_MS);
    expect(init.deadlineMs).toBeLessThan(BUILD_MS);
    expect(report.error).toBeUndefined();
    expect(commands.map((c) => c.cmd)).toEqual(['init', 'serve', 'load', 'finish', 'stop']);
  });
});
