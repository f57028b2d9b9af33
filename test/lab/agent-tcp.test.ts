// An agent on TCP with the run's token (agent/tcp-transport.ts), in a real lab host, driven by a controller in
// another host over the lab's bridge: a wrong token is refused with a fatal event and logged on the agent's
// stderr, the right one gets the whole protocol, and the agent's own control connection is in no census count.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/core/paths.ts';
import { defineScenario } from '../../src/core/scenario.ts';
import type { Lab } from '../../src/lab/driver.ts';
import { AGENT_TCP_PORT } from '../../src/lab/kube-file.ts';
import { netnsDriver } from '../../src/lab/netns-driver.ts';
import { resolvePlan } from '../../src/plan/load-plan.ts';
import { nodeInHost, until } from '../helpers/lab.ts';
import { describeWithTools } from '../helpers/tools.ts';

let lab: Lab | undefined;
afterEach(async () => {
  await lab?.teardown();
  lab = undefined;
});

describeWithTools(['ip'], 'the agent on TCP', () => {
  it('refuses and logs a wrong token, serves the right one, and leaves its control port out of the census', async () => {
    const plan = resolvePlan(
      defineScenario({
        name: 'agent-tcp',
        description: 'an agent with one server, reached over TCP',
        params: {},
        build: () => ({
          hosts: { agent: {}, ctl: {} },
          actors: { web: { kind: 'http-server', host: 'agent', port: 8080 } },
        }),
      }),
      'test',
      {},
    );
    lab = await netnsDriver.build(plan, () => undefined);
    const token = randomBytes(32).toString('hex');
    const agent = spawn(
      'ip',
      [
        'netns',
        'exec',
        lab.hosts['agent']!.location,
        process.execPath,
        resolve(PACKAGE_ROOT, 'dist/agent/main.js'),
        '--tcp',
        String(AGENT_TCP_PORT),
        '--wait-s',
        '60',
      ],
      {
        env: { ...process.env, WAITLAB_AGENT_TOKEN: token },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    agent.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => agent.on('exit', r));
    const init = {
      cmd: 'init',
      host: plan.hosts['agent'],
      actors: [plan.actors['web']],
      intervalMs: 100,
      deadlineMs: 60_000,
    };
    const wrong = randomBytes(32).toString('hex');
    const out = JSON.parse(
      nodeInHost(lab, 'ctl', 'agent-tcp-controller.ts', [
        plan.hosts['agent']!.address,
        String(AGENT_TCP_PORT),
        wrong,
        token,
        JSON.stringify(init),
      ]),
    ) as {
      refused: { type: string; message: string }[];
      events: string[];
      census: { total: Record<string, number>; listen: Record<string, number>; ephemeral: Record<string, number> };
    };

    expect(out.refused).toEqual([{ type: 'fatal', message: 'the agent refused this connection: wrong token' }]);
    // nodeInHost held this process's event loop: the agent's stderr is read now.
    await until(() => stderr.includes('wrong token'), 'the agent to log the refusal');
    expect(stderr).toMatch(
      new RegExp(
        `^waitlab agent: refused a connection from ${plan.hosts['ctl']!.address.replaceAll('.', '\\.')}:\\d+: wrong token\n$`,
      ),
    );
    expect(out.events.filter((type) => type !== 'log')).toEqual([
      'hello',
      'ready',
      'serving',
      'sample',
      'finished',
      'stopped',
    ]);
    // The only socket the census sees is the http-server's listener: the agent's end of its control connection
    // (ESTABLISHED on port 7411) and of the refused one (FIN_WAIT or TIME_WAIT) are in no count.
    expect(out.census.total).toEqual({ LISTEN: 1 });
    expect(out.census.listen).toEqual({ LISTEN: 1 });
    expect(out.census.ephemeral).toEqual({});
    // The agent exits when its controller hangs up.
    expect(await until(() => (agent.exitCode === null ? undefined : exited), 'the agent to exit')).toBeDefined();
    expect(await exited).toBe(0);
  }, 90_000);
});
