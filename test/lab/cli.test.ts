// The CLI as users meet it: machine output on stdout, exit codes, validation before anything starts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/core/paths.ts';
import { labNamespaces, labsLeftSince, runCli, tempDir } from '../helpers/lab.ts';

const UNMET = join(PACKAGE_ROOT, 'test/fixtures/scenarios/unmet-threshold.ts');

describe('waitlab CLI', () => {
  it('prints the whole report.json on stdout with --json, however large, and exits 0 on a pass', async () => {
    const dir = tempDir();
    // fixed-local-port's report is larger than a pipe's 64 KiB buffer: it must still arrive whole.
    const cli = runCli(['scenario', 'fixed-local-port', '--set', 'count=4', '--out', dir, '--json', '--no-progress']);
    expect(await cli.exit).toBe(0);
    expect(cli.stdout().length).toBeGreaterThan(65_536);
    const printed = JSON.parse(cli.stdout());
    expect(printed).toEqual(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')));
    expect(cli.stderr()).toMatch(/fixed-local-port: PASS/);
  });

  it('exits 1 when a threshold fails, with the failing expression in the summary', async () => {
    // 1 s of flood at 100/s cannot exhaust 1,000 ports, and the scenario asks for EADDRNOTAVAIL.
    const cli = runCli(['scenario', UNMET, '--out', tempDir(), '--no-progress']);
    expect(await cli.exit).toBe(1);
    expect(cli.stderr()).toMatch(/unmet-threshold: FAIL/);
    expect(cli.stderr()).toMatch(
      // An error code never met reads 0 where the flood has its error list: the run failed on the value, not as missing.
      /FAIL actors\.flood\.errors\.EADDRNOTAVAIL\.count > 0 \(value 0\)/,
    );
  });

  it('hands the words after -- to the privileged command as written, numbers included', async () => {
    const cli = runCli(['privileged', '--', 'echo', '0010', '200']);
    expect(await cli.exit).toBe(0);
    expect(cli.stdout()).toBe('0010 200\n');
  });

  it('exits 2 on invalid parameters, listing them all, before any lab exists', async () => {
    const before = labNamespaces();
    const cli = runCli(['scenario', 'short-conn', '--set', 'rate=fast', '--set', 'nope=1']);
    expect(await cli.exit).toBe(2);
    expect(cli.stderr()).toMatch(/unknown parameter "nope"/);
    expect(cli.stderr()).toMatch(/param\.rate: "fast" is not a rate/);
    expect(labsLeftSince(before)).toEqual([]);
  });

  it('prints the resolved plan with --dry-run and starts nothing', async () => {
    const cli = runCli(['scenario', 'short-conn', '--dry-run', '--set', 'rate=250/s']);
    expect(await cli.exit).toBe(0);
    const plan = JSON.parse(cli.stdout());
    expect(plan.actors.flood.options.rate).toBe(250);
    expect(plan.hosts.client.sysctls['net.ipv4.tcp_tw_reuse']).toBe('0');
  });

  it('takes --sysctl host:name=value into the plan, and refuses what a scenario file may not ask for, with its reason', async () => {
    const cli = runCli(['scenario', 'short-conn', '--dry-run', '--sysctl', 'client:net.ipv4.tcp_tw_reuse=1']);
    expect(await cli.exit).toBe(0);
    expect(JSON.parse(cli.stdout()).hosts.client.sysctls['net.ipv4.tcp_tw_reuse']).toBe('1');
    const before = labNamespaces();
    const bad = runCli([
      'scenario',
      'short-conn',
      '--sysctl',
      'client:net.ipv4.tcp_tw_recycle=1',
      '--sysctl',
      'nohost:net.ipv4.tcp_tw_reuse=1',
    ]);
    expect(await bad.exit).toBe(2);
    expect(bad.stderr()).toMatch(/sysctl net\.ipv4\.tcp_tw_recycle was removed in Linux 4\.12/);
    expect(bad.stderr()).toMatch(/--sysctl nohost:net\.ipv4\.tcp_tw_reuse=1: no host "nohost"/);
    expect(labsLeftSince(before)).toEqual([]);
  });

  it('lists every scenario with one line', async () => {
    const cli = runCli(['list']);
    expect(await cli.exit).toBe(0);
    const lines = cli.stdout().trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(18);
    expect(lines.find((l) => l.startsWith('short-conn '))).toMatch(/EADDRNOTAVAIL/);
  });
});
