// doctor --reproduce on lab hosts made to look like production: a client whose service opens 100 connections per
// second toward one server and closes them first (a 1,500-port range, tcp_tw_reuse=0, so it fills most of it), a
// server whose python3 process never closes what its peers close, and a quiet host. The written scenario must load
// as it is; with --run the lab must run out of ports within 20% of doctor's prediction for the host, and the fix
// doctor names first must cure it; the leak must come back as a server that never closes, with no sysctl to set.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lab } from '../../src/lab/driver.ts';
import { loadPlan } from '../../src/plan/load-plan.ts';
import type { ReproduceOutcome } from '../../src/watch/reproduce-check.ts';
import type { UntestedFix } from '../../src/watch/reproduce-fixes.ts';
import { buildLab, inHost, runCli, tempDir, until } from '../helpers/lab.ts';
import { LEAKING_SERVER, portLoad, startIn } from '../helpers/lab-programs.ts';
import { itWithTools } from '../helpers/tools.ts';

const RANGE = '40000 41499';
const BUDGET = 1500;
const RATE = 100;
/** Most of the range: the service's load is bounded, and still fills 1,400 of 1,500 ports. */
const SERVICE_CONNECTIONS = 1400;

interface ReproduceJson {
  observed: {
    exhausting: { connectRate: number; ports: number; exhaustionMs: number | null }[];
    closeWait: { perSecond: number } | null;
  };
  scenario: { name: string; file: string; source: string };
  run: { dir: string; outcome: ReproduceOutcome; untested: UntestedFix[] };
}

/** ss's count of sockets in one state inside a host. */
function ssCount(lab: Lab, host: string, state: string): number {
  return inHost(lab, host, 'ss', ['-H', '-tan', 'state', state]).split('\n').filter(Boolean).length;
}

async function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = runCli(args);
  const code = await run.exit;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

describe('doctor --reproduce on lab hosts', () => {
  let lab: Lab;
  let server: string;
  const procs: ChildProcess[] = [];

  beforeAll(async () => {
    lab = await buildLab({
      client: {
        sysctls: { 'net.ipv4.ip_local_port_range': RANGE, 'net.ipv4.tcp_tw_reuse': 0, 'net.ipv4.tcp_rfc1337': 1 },
      },
      server: {},
      quiet: {},
    });
    server = lab.hosts.server!.address;
    await startIn(lab, 'server', portLoad({ listen: [8080] }), procs);
  });
  afterAll(async () => {
    for (const p of procs) p.kill('SIGTERM');
    await lab?.teardown();
  });

  it('a quiet host: "nothing to reproduce", no file, exit 0', async () => {
    const file = join(tempDir(), 'quiet.ts');
    const { code, stdout, stderr } = await cli([
      'doctor',
      '--netns',
      lab.hosts.quiet!.location,
      '--for',
      '1s',
      '--reproduce',
      '--out',
      file,
    ]);
    expect(code).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toContain('nothing to reproduce');
    expect(() => readFileSync(file)).toThrow(/ENOENT/);
  });

  it("ports running out: the scenario loads, the lab runs out within 20% of doctor's prediction, tcp_tw_reuse=1 cures it", async () => {
    await startIn(
      lab,
      'client',
      portLoad({ closeAtRate: { host: server, port: 8080, count: SERVICE_CONNECTIONS, perSecond: RATE } }),
      procs,
    );
    await until(() => ssCount(lab, 'client', 'time-wait') >= 200, 'the service to hold 200 ports');
    const file = join(tempDir(), 'client-shape.ts');
    const { code, stdout, stderr } = await cli([
      'doctor',
      '--netns',
      lab.hosts.client!.location,
      '--for',
      '2s',
      '--reproduce',
      '--out',
      file,
      '--run',
      '--json',
    ]);
    expect({ code, stderr }).toMatchObject({ code: 0 });
    const out = JSON.parse(stdout) as ReproduceJson;

    // What doctor measured: one destination, the service's rate (loosely: the machine is shared).
    const [seen] = out.observed.exhausting;
    expect(out.observed.exhausting).toHaveLength(1);
    expect(seen!.connectRate).toBeGreaterThan(RATE * 0.8);
    expect(seen!.connectRate).toBeLessThan(RATE * 1.2);
    expect(seen!.exhaustionMs).not.toBeNull();

    // The file as written loads as it is, shaped like the host: its range, tcp_tw_reuse=0, the measured rate.
    expect(readFileSync(file, 'utf8')).toBe(out.scenario.source);
    const plan = await loadPlan(file);
    expect(plan.hosts.observed!.sysctls).toMatchObject({
      'net.ipv4.ip_local_port_range': RANGE,
      'net.ipv4.tcp_tw_reuse': '0',
    });
    expect(plan.actors.server1).toMatchObject({ host: 'dest1', options: { port: 8080, keepAlive: false } });
    expect((plan.actors.flood1!.options as { rate: number }).rate).toBe(seen!.connectRate);

    // The lab failed the way the host would: EADDRNOTAVAIL toward the destination, in doctor's time within 20%.
    const [lab1] = out.run.outcome.reference.floods;
    expect(lab1!.noPort).toBeGreaterThan(0);
    expect(lab1!.ranOutMs).not.toBeNull();
    expect(lab1!.ratio).toBeGreaterThanOrEqual(0.8);
    expect(lab1!.ratio).toBeLessThanOrEqual(1.2);
    expect(lab1!.reproduced).toBe(true);
    expect(out.run.outcome.reproduced).toBe(true);

    // The fixes, smallest first; tcp_tw_reuse=1 cured it with no connect() failing for want of a port.
    expect(out.run.outcome.fixes.map((f) => f.fix.label)).toEqual([
      'tcp_tw_reuse=1',
      'ip_local_port_range 15000 64999',
      'the server closes first',
    ]);
    const best = out.run.outcome.smallest!;
    expect(best.fix.label).toBe('tcp_tw_reuse=1');
    expect(best.cured).toBe(true);
    expect(best.floods[0]!.noPort).toBe(0);
    expect(best.floods[0]!.attempts).toBeGreaterThan(BUDGET);
    expect(best.fix.change).toEqual(['net.ipv4.tcp_tw_reuse = 1']);
    expect(out.run.untested.map((u) => u.change)).toContain('keep-alive (reuse connections toward each destination)');

    // One lab run per fix beside the host's own, in the comparison's directory.
    const report = readFileSync(join(out.run.dir, 'comparison.json'), 'utf8');
    expect(JSON.parse(report).runs).toHaveLength(4);
  }, 300_000);

  itWithTools(
    ['python3'],
    "a CLOSE_WAIT leak: a server that never closes, reproduced at the host's rate, and no sysctl recommended",
    async () => {
      await startIn(lab, 'server', ['python3', '-c', LEAKING_SERVER, '8082'], procs);
      await startIn(
        lab,
        'quiet',
        portLoad({ halfClose: { host: server, port: 8082, count: 60, everyMs: 100 } }),
        procs,
      );
      await until(() => ssCount(lab, 'server', 'close-wait') >= 5, 'the first leaks');
      const file = join(tempDir(), 'leak-shape.ts');
      const { code, stdout, stderr } = await cli([
        'doctor',
        '--netns',
        lab.hosts.server!.location,
        '--for',
        '2s',
        '--reproduce',
        '--out',
        file,
        '--run',
      ]);
      expect({ code, stderr }).toMatchObject({ code: 0 });
      expect(stdout).toBe('');
      const plan = await loadPlan(file);
      expect(plan.actors.leaking).toMatchObject({ host: 'observed', options: { closeStyle: 'never' } });
      expect(readFileSync(file, 'utf8')).toMatch(/held by pid \d+ "python3"/);
      expect(stderr).toMatch(
        /CLOSE_WAIT on the lab's host: \d+ when the load ended, [\d.]+ per second against the host's [\d.]+ \(lab \/ host [\d.]+\): reproduced/,
      );
      // No sysctl ends CLOSE_WAIT: no fix run, nothing to set, and the application change named as untested.
      expect(stderr).not.toContain('fixes tried');
      expect(stderr).not.toMatch(/sysctl -w|net\.ipv4\.\w+ = /);
      expect(stderr).toContain(
        "close the socket when read() returns 0 (node: on 'end'), or an idle timeout in the application: an application change: no sysctl or timer ends CLOSE_WAIT",
      );
    },
    120_000,
  );
});
