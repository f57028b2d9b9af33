// The CLI as users meet it: machine output on stdout, exit codes, validation before anything starts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labNamespaces, runCli, tempDir } from '../helpers/lab.ts';

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
    // 1 s of flood at 100/s cannot exhaust 1,000 ports: short-conn's own thresholds must fail.
    const cli = runCli(['scenario', 'short-conn', '--set', 'rate=100/s', '--set', 'duration=1s', '--out', tempDir(), '--no-progress']);
    expect(await cli.exit).toBe(1);
    expect(cli.stderr()).toMatch(/short-conn: FAIL/);
    expect(cli.stderr()).toMatch(/FAIL actors\.flood\.errors\.EADDRNOTAVAIL\.count > 0 \(value -: metric missing from the report\)/);
  });

  it('exits 2 on invalid parameters, listing them all, before any lab exists', async () => {
    const before = labNamespaces().length;
    const cli = runCli(['scenario', 'short-conn', '--set', 'rate=fast', '--set', 'nope=1']);
    expect(await cli.exit).toBe(2);
    expect(cli.stderr()).toMatch(/unknown parameter "nope"/);
    expect(cli.stderr()).toMatch(/param\.rate: "fast" is not a rate/);
    expect(labNamespaces().length).toBe(before);
  });

  it('prints the resolved plan with --dry-run and starts nothing', async () => {
    const cli = runCli(['scenario', 'short-conn', '--dry-run', '--set', 'rate=250/s']);
    expect(await cli.exit).toBe(0);
    const plan = JSON.parse(cli.stdout());
    expect(plan.actors.flood.options.rate).toBe(250);
    expect(plan.hosts.client.sysctls['net.ipv4.tcp_tw_reuse']).toBe('0');
  });

  it('lists every scenario with one line', async () => {
    const cli = runCli(['list']);
    expect(await cli.exit).toBe(0);
    const lines = cli.stdout().trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(18);
    expect(lines.find((l) => l.startsWith('short-conn '))).toMatch(/EADDRNOTAVAIL/);
  });
});
