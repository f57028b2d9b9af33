// Nothing of a lab may outlive its run: no namespace, veth or process after success, after a thrown
// error, after SIGINT; and a lab left by a SIGKILLed run is reaped at the next start.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/controller/run-scenario.ts';
import { AgentError } from '../../src/core/errors.ts';
import { PACKAGE_ROOT } from '../../src/core/paths.ts';
import { loadPlan } from '../../src/plan/load-plan.ts';
import { reapStaleLabs } from '../../src/lab/stale-labs.ts';
import { agentPids, buildLab, hostLinks, labNamespaces, runCli, runShort, tempDir, until } from '../helpers/lab.ts';

const SHORT = { duration: '1s', rate: '100/s' };
const CLASH = resolve(PACKAGE_ROOT, 'test/fixtures/scenarios/port-clash.ts');

// The sysctls the lab writes in its hosts: the machine's own (this test's namespace) must not move.
const WATCHED = ['ip_local_port_range', 'tcp_tw_reuse', 'tcp_rfc1337', 'tcp_fin_timeout', 'tcp_max_tw_buckets'].map(
  (s) => `/proc/sys/net/ipv4/${s}`,
);
const ownSysctls = () => WATCHED.map((p) => readFileSync(p, 'utf8'));

describe('lab teardown', () => {
  let linksBefore: string[];
  let sysctlsBefore: string[];
  beforeEach(() => {
    linksBefore = hostLinks();
    sysctlsBefore = ownSysctls();
  });
  afterEach(() => {
    expect(labNamespaces(process.pid)).toEqual([]);
    expect(agentPids(process.pid)).toEqual([]);
    expect(hostLinks()).toEqual(linksBefore);
    expect(ownSysctls()).toEqual(sysctlsBefore);
  });

  it('leaves nothing after a successful run', async () => {
    const { report } = await runShort('short-conn', SHORT);
    expect(report.verdict).not.toBe('error');
    expect(report.hosts.client!.samples).toBeGreaterThan(0);
  });

  it('leaves nothing after an error once the lab exists, and still writes the report', async () => {
    const dir = tempDir();
    const err = await runScenario(await loadPlan(CLASH), { outDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentError);
    expect((err as Error).message).toMatch(/EADDRINUSE/);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report.verdict).toBe('error');
    expect(report.error).toMatch(/EADDRINUSE/);
  });

  it('leaves nothing after SIGINT in the middle of the load, and exits 130 with a partial report', async () => {
    const dir = tempDir();
    const cli = runCli([
      'scenario',
      'short-conn',
      '--set',
      'duration=30s',
      '--set',
      'rate=50/s',
      '--out',
      dir,
      '--no-progress',
    ]);
    await until(
      () =>
        existsSync(join(dir, 'samples.ndjson')) &&
        readFileSync(join(dir, 'samples.ndjson'), 'utf8').includes('"type":"stats"'),
      'the load to start',
    );
    cli.child.kill('SIGINT');
    expect(await cli.exit).toBe(130);
    expect(labNamespaces(cli.child.pid)).toEqual([]);
    expect(agentPids(cli.child.pid)).toEqual([]);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report.verdict).toBe('interrupted');
    expect(report.actors.flood.attempts).toBeGreaterThan(0);
  });

  it("reaps the lab of a SIGKILLed run at the next start, and never touches a live run's lab", async () => {
    const live = await buildLab({ keep: {} });
    try {
      const cli = runCli([
        'scenario',
        'short-conn',
        '--set',
        'duration=30s',
        '--set',
        'rate=50/s',
        '--out',
        tempDir(),
        '--no-progress',
      ]);
      const pid = cli.child.pid!;
      await until(
        () => labNamespaces(pid).length === 3 && agentPids(pid).length === 2,
        "the killed run's lab and agents",
      );
      cli.child.kill('SIGKILL');
      await cli.exit;
      // Its agents see their stdin close and exit by themselves; its namespaces stay until reaped.
      await until(() => agentPids(pid).length === 0, 'the orphaned agents to exit');
      expect(labNamespaces(pid)).toHaveLength(3);

      const removed = await reapStaleLabs();
      expect(removed.sort()).toEqual([`wl${pid}n0-bridge`, `wl${pid}n0-client`, `wl${pid}n0-server`]);
      expect(labNamespaces(pid)).toEqual([]);
      expect(labNamespaces(process.pid).sort()).toEqual([`${live.id}-bridge`, `${live.id}-keep`]);
    } finally {
      await live.teardown();
    }
  });
});
