// Names every JavaScript object inherits (constructor, toString, __proto__, ...), given wherever a user names a
// key: each is refused as a usage problem (exit 2), never accepted, dropped silently or crashed on (exit 4).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { exitCodeFor } from '../../src/cli/exit-codes.ts';
import { main } from '../../src/cli/main.ts';
import { defineScenario, type ScenarioSpec } from '../../src/core/scenario.ts';
import { readPath } from '../../src/core/thresholds.ts';
import { loadPlan, parseOverrides, resolvePlan } from '../../src/plan/load-plan.ts';
import { loadProfile } from '../../src/plan/profiles.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const INHERITED = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', '__proto__'];

/** The exit code the CLI would give for what `work` throws; 0 when it throws nothing. */
async function exitOf(work: () => unknown): Promise<number> {
  const printed = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    await work();
    return 0;
  } catch (err) {
    return exitCodeFor(err);
  } finally {
    printed.mockRestore();
  }
}

const scenario = (build: () => ScenarioSpec) => defineScenario({ name: 'proto', description: 'd', params: {}, build });
const SERVER = { kind: 'http-server', host: 'server' };

describe('names every object inherits', () => {
  it('--set refuses each of them as an unknown parameter, __proto__ included (it was dropped silently)', async () => {
    for (const name of INHERITED) {
      expect(await exitOf(() => loadPlan('short-conn', parseOverrides([`${name}=1`]))), name).toBe(2);
    }
    expect(await exitOf(() => loadPlan('short-conn', parseOverrides(['rate=100/s'])))).toBe(0);
  });

  it('--tolerance refuses __proto__ (it was dropped silently) and any inherited segment of a pattern', async () => {
    expect(await exitOf(() => main(['scenario', 'short-conn', '--dry-run', '--tolerance', '__proto__=+1%']))).toBe(2);
    expect(
      await exitOf(() =>
        main(['scenario', 'short-conn', '--dry-run', '--tolerance', 'hosts.*.sysctls.constructor=+1%']),
      ),
    ).toBe(2);
    expect(
      await exitOf(() =>
        main(['scenario', 'short-conn', '--dry-run', '--tolerance', 'hosts.client.peak.total.TIME_WAIT=+1%']),
      ),
    ).toBe(0);
  });

  it('a profile whose target is __proto__, constructor or toString is refused, not crashed on', async () => {
    for (const target of ['__proto__', 'constructor', 'toString']) {
      const file = join(tempDir('waitlab-profile-'), 'p.json');
      writeFileSync(file, `{ "name": "p", "sysctls": { "${target}": { "net.ipv4.tcp_tw_reuse": 1 } } }`);
      expect(await exitOf(() => loadPlan('short-conn', {}, { profile: loadProfile(file) })), target).toBe(2);
    }
  });

  it("a scenario naming one as a host, an actor's host or target, a --scale or a --sysctl host is refused", async () => {
    const cases: [string, () => unknown][] = [
      [
        'host named constructor',
        () =>
          resolvePlan(
            scenario(() => ({ hosts: { constructor: {} }, actors: {} })),
            'f',
            {},
          ),
      ],
      [
        'actor named constructor',
        () =>
          resolvePlan(
            scenario(() => ({ hosts: { server: {} }, actors: { constructor: SERVER } })),
            'f',
            {},
          ),
      ],
      [
        'actor on host toString',
        () =>
          resolvePlan(
            scenario(() => ({ hosts: { server: {} }, actors: { web: { kind: 'http-server', host: 'toString' } } })),
            'f',
            {},
          ),
      ],
      [
        'flood at target constructor',
        () =>
          resolvePlan(
            scenario(() => ({
              hosts: { server: {}, client: {} },
              actors: { web: SERVER, flood: { kind: 'short-conn-client', host: 'client', target: 'constructor' } },
            })),
            'f',
            {},
          ),
      ],
      [
        '--scale constructor=2',
        () =>
          resolvePlan(
            scenario(() => ({ hosts: { server: {} }, actors: { web: SERVER } })),
            'f',
            {},
            { scale: { constructor: 2 } },
          ),
      ],
      [
        '--sysctl constructor:',
        () =>
          resolvePlan(
            scenario(() => ({ hosts: { server: {} }, actors: { web: SERVER } })),
            'f',
            {},
            { sysctls: ['constructor:net.ipv4.tcp_tw_reuse=1'] },
          ),
      ],
    ];
    for (const [what, work] of cases) expect(await exitOf(work), what).toBe(2);
  });

  it("a report path finds only a report's own keys", () => {
    expect(readPath({ hosts: { client: { sysctls: {} } } }, 'hosts.client.sysctls.constructor')).toBeUndefined();
    expect(readPath({ a: { 'Tcp.ActiveOpens': 3 } }, 'a.Tcp.ActiveOpens')).toBe(3);
  });
});
