// The process actor's plan: every option parsed at plan time (argv, env, ready, user, executable, cwd), the lab's
// addresses and ports in its environment, and the compose driver's refusal. No namespace, no process started.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/cli/exit-codes.ts';
import { PlanValidationError } from '../../src/core/errors.ts';
import { defineScenario, type ScenarioSpec } from '../../src/core/scenario.ts';
import { composeRefusals } from '../../src/lab/compose-file.ts';
import { resolvePlan } from '../../src/plan/load-plan.ts';
import type { ProcessLaunch } from '../../src/actors/process-launch.ts';

const NODE = process.execPath;

function plan(actor: Record<string, unknown>, file = 'inline.ts') {
  const spec: ScenarioSpec = {
    hosts: { client: {}, server: {} },
    actors: {
      api: { kind: 'process', host: 'server', ...actor },
      flood: { kind: 'short-conn-client', host: 'client', target: 'api', rate: '10/s', duration: '1s' },
    },
  };
  return resolvePlan(defineScenario({ name: 'inline', description: 'test', params: {}, build: () => spec }), file, {});
}

function problemsOf(actor: Record<string, unknown>): string[] {
  try {
    plan(actor);
  } catch (err) {
    if (err instanceof PlanValidationError) {
      expect(exitCodeFor(err)).toBe(2);
      return [...err.problems];
    }
    throw err;
  }
  return [];
}

describe('process actor plan', () => {
  it('refuses a shell string, with the reason and the argv it would have meant', () => {
    const problems = problemsOf({ command: 'node ./api.js', port: 8080 });
    expect(problems).toEqual([
      `actors.api.command: a shell string is not run (there is no shell, so quoting, pipes and $VARS would not mean what they say): give the argv as a list, e.g. ["node","./api.js"]`,
    ]);
  });

  it('refuses an executable that is not there, in PATH or relative to cwd (exit 2)', () => {
    expect(problemsOf({ command: ['waitlab-no-such-program', 'x'], port: 8080 })).toEqual([
      'actors.api.command: "waitlab-no-such-program" is not an executable file (not found in PATH)',
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'waitlab-process-plan-'));
    writeFileSync(join(dir, 'not-executable.sh'), 'echo hi\n', { mode: 0o644 });
    expect(problemsOf({ command: ['./not-executable.sh'], cwd: dir, port: 8080 })).toEqual([
      `actors.api.command: "./not-executable.sh" is not an executable file (looked at ${dir}/not-executable.sh)`,
    ]);
    expect(problemsOf({ command: [NODE], cwd: join(dir, 'missing'), port: 8080 })).toEqual([
      `actors.api.cwd: ${dir}/missing: ENOENT`,
    ]);
  });

  it('refuses a line break in env or argv and a NUL anywhere, each named', () => {
    expect(problemsOf({ command: [NODE, 'a\0b'], env: { PORT: '8080\nX=1' }, port: 8080 })).toEqual([
      'actors.api.command: argument 1 holds a NUL byte',
      'actors.api.env: PORT holds a line break',
    ]);
    expect(problemsOf({ command: [NODE], env: { 'BAD-NAME': '1' }, port: 8080 })).toEqual([
      'actors.api.env: "BAD-NAME" is not an environment variable name (letters, digits and _, not starting with a digit)',
    ]);
  });

  it('parses the ready test at plan time: a port, a substring or a /regex/, and refuses a broken one', () => {
    expect(
      plan({ command: [NODE], port: 8080, ready: { log: '/listening on \\d+/i' } }).actors.api!.options['ready'],
    ).toEqual({ log: { regex: 'listening on \\d+', flags: 'i' } });
    expect(plan({ command: [NODE], port: 8080, ready: { log: 'listening' } }).actors.api!.options['ready']).toEqual({
      log: { text: 'listening' },
    });
    expect(problemsOf({ command: [NODE], ready: { log: '/(/' }, port: 8080 })[0]).toMatch(
      /^actors\.api\.ready: log: Invalid regular expression/,
    );
    expect(problemsOf({ command: [NODE] })).toContain(
      "actors.api: give the port it listens on (port: 8080) or a ready test (ready: { log: 'listening' })",
    );
    expect(problemsOf({ command: [NODE], port: 8080, user: 'waitlab-no-such-user' })).toEqual([
      'actors.api.user: no user "waitlab-no-such-user" in /etc/passwd',
    ]);
  });

  it("resolves what will run: the executable's path, cwd from the scenario file, the lab in its environment, ready by its port", () => {
    const dir = mkdtempSync(join(tmpdir(), 'waitlab-process-plan-'));
    const p = plan(
      { command: [NODE.split('/').pop()!, 'api.js'], env: { PORT: 8080 }, port: 8080, user: 'root' },
      join(dir, 'scenario.ts'),
    );
    const launch = (p.actors.api as unknown as { launch: ProcessLaunch }).launch;
    expect(launch.argv).toEqual([expect.stringMatching(/^\/.*\/node$/), 'api.js']);
    expect(launch.cwd).toBe(dirname(join(dir, 'scenario.ts')));
    expect(launch.ready).toEqual({ port: 8080 });
    expect(launch.user).toEqual({ name: 'root', uid: 0, gid: 0 });
    expect(Object.keys(launch.env).sort()).toEqual([
      'LANG',
      'PATH',
      'PORT',
      'WAITLAB_HOST_client',
      'WAITLAB_HOST_server',
      'WAITLAB_PORT_api',
    ]);
    expect(launch.env).toMatchObject({
      PORT: '8080',
      WAITLAB_HOST_server: p.hosts.server!.address,
      WAITLAB_PORT_api: '8080',
    });
    // Other actors target it by its port, like any server.
    expect(p.actors.flood!.connect).toEqual({
      actor: 'api',
      host: 'server',
      address: p.hosts.server!.address,
      port: 8080,
    });
    expect(p.tools).toContain('setpriv');
  });

  it('is refused by the compose driver, saying what it would need', () => {
    expect(composeRefusals(plan({ command: [NODE], port: 8080 }))).toEqual([
      "actor api (process) runs a command from this machine; the compose driver would need its working directory and executable mounted read-only into the host's container (and the executable's libraries in the image), which it does not do yet: use --driver netns",
    ]);
  });
});
