// Faults a run must survive (issue 14): a full disk under --out (a tmpfs of a few KB in a private mount
// namespace, gone with the process), an --out the CLI must refuse at once, and an owner file the reaper must
// not trust. Each: the exit code says what happened, report.json is whole or absent, samples.ndjson holds
// whole lines only, and no namespace or agent is left.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reapStaleLabs } from '../../src/lab/stale-labs.ts';
import {
  agentPids,
  BIN,
  labNamespaces,
  labsLeftSince,
  runCli,
  shortConnUnderLoad,
  tempDir,
  until,
} from '../helpers/lab.ts';

/** Runs the CLI with --out on a tmpfs of `size`, and reports what it left there, read inside the same mount namespace. */
function runOnFullDisk(size: string): {
  exit: number;
  files: string[];
  wholeLines: boolean;
  reportParses: boolean | null;
  stderr: string;
} {
  const mnt = tempDir();
  const check = `
    const fs = require('fs'); const dir = process.argv[1];
    const files = fs.readdirSync(dir).sort();
    const lines = fs.readFileSync(dir + '/samples.ndjson', 'utf8').split('\\n');
    let whole = lines.at(-1) === '';
    for (const l of lines.slice(0, -1)) { try { JSON.parse(l); } catch { whole = false; } }
    let report = null;
    if (files.includes('report.json')) { try { JSON.parse(fs.readFileSync(dir + '/report.json', 'utf8')); report = true; } catch { report = false; } }
    console.log(JSON.stringify({ files, whole, report }));`;
  const script = `mount -t tmpfs -o size=${size} tmpfs "$1" || exit 99
    "$2" "$3" scenario short-conn --set duration=3s --out "$1/run" --no-progress 2>"$1/../stderr.txt"
    echo "$?"
    "$2" -e "$4" "$1/run"`;
  // Bounded: a run that hangs on a full disk fails here instead of holding the whole test run.
  const out = execFileSync(
    'unshare',
    ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', mnt, process.execPath, BIN, check],
    { encoding: 'utf8', timeout: 120_000 },
  );
  const [exit, json] = out.trim().split('\n');
  const left = JSON.parse(json!);
  return {
    exit: Number(exit),
    files: left.files,
    wholeLines: left.whole,
    reportParses: left.report,
    stderr: execFileSync('cat', [join(mnt, '..', 'stderr.txt')], { encoding: 'utf8' }),
  };
}

describe('a full disk under --out', () => {
  it('while samples stream in: the run stops, exit 4 naming ENOSPC, whole sample lines, no report.json, nothing left', () => {
    const before = labNamespaces();
    const r = runOnFullDisk('16k');
    expect(r.exit).toBe(4);
    expect(r.stderr).toMatch(/cannot write .*samples\.ndjson: ENOSPC/);
    expect(r.wholeLines).toBe(true);
    expect(r.reportParses).toBe(null);
    expect(labsLeftSince(before)).toEqual([]);
  });

  it('when the report is written: exit 4, report.json absent rather than cut short', () => {
    const before = labNamespaces();
    const r = runOnFullDisk('56k');
    expect(r.exit).toBe(4);
    expect(r.stderr).toMatch(/cannot write .*: ENOSPC/);
    expect(r.wholeLines).toBe(true);
    expect(r.reportParses).not.toBe(false);
    expect(r.files.filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(labsLeftSince(before)).toEqual([]);
  });
});

describe('an --out the CLI refuses before any lab', () => {
  it('under /proc, or a directory that is not empty: exit 2 at once', async () => {
    const proc = runCli(['scenario', 'short-conn', '--out', '/proc/x', '--no-progress']);
    expect(await proc.exit).toBe(2);
    expect(proc.stderr()).toMatch(/cannot be under \/proc/);
    const full = tempDir();
    writeFileSync(join(full, 'report.json'), '{}');
    const used = runCli(['scenario', 'short-conn', '--out', full, '--no-progress']);
    expect(await used.exit).toBe(2);
    expect(used.stderr()).toMatch(/is not empty: one directory per run/);
  });
});

describe('the reaper', () => {
  it('ignores an owner file whose name or lab field is not a lab name: it never deletes a path built from it', async () => {
    mkdirSync('/run/waitlab', { recursive: true });
    // Once, the `lab` field of a dead owner's file named the owner file to remove: /run/waitlab/<lab>.json.
    const victim = join(tempDir(), 'victim.json');
    writeFileSync(victim, 'keep me');
    const evil = '/run/waitlab/evil.json';
    const lying = '/run/waitlab/wl999999999n9.json';
    writeFileSync(
      evil,
      JSON.stringify({ lab: `../..${victim.slice(0, -5)}`, pid: 999999999, startTime: '0', namespaces: [] }),
    );
    writeFileSync(
      lying,
      JSON.stringify({
        lab: `wl999999999n9/../../..${victim.slice(0, -5)}`,
        pid: 999999999,
        startTime: '0',
        namespaces: [],
      }),
    );
    try {
      expect(await reapStaleLabs()).toEqual([]);
      expect(readFileSync(victim, 'utf8')).toBe('keep me');
    } finally {
      rmSync(evil, { force: true });
      rmSync(lying, { force: true });
    }
  });
});

describe('a run killed before its report', () => {
  it('is rebuilt by `waitlab report` from its log and every whole line of samples.ndjson, and says it was killed', async () => {
    const dir = join(tempDir(), 'run');
    const cli = runCli([
      'scenario',
      'short-conn',
      '--set',
      'duration=20s',
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
    cli.child.kill('SIGKILL');
    await cli.exit;
    await reapStaleLabs();
    expect(existsSync(join(dir, 'report.json'))).toBe(false);
    const lines = readFileSync(join(dir, 'samples.ndjson'), 'utf8')
      .split('\n')
      .filter((l) => {
        try {
          JSON.parse(l);
          return true;
        } catch {
          return false;
        }
      });
    const report = runCli(['report', dir]);
    expect(await report.exit).toBe(4);
    expect(report.stderr()).toMatch(/had no report\.json \(the run was killed\); rebuilt from \d+ events/);
    const rebuilt = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(rebuilt.verdict).toBe('interrupted');
    expect(rebuilt.error).toMatch(/the run was killed before it wrote report\.json/);
    const stats = lines.map((l) => JSON.parse(l)).filter((e) => e.type === 'stats' && e.actor === 'flood');
    expect(rebuilt.actors.flood.attempts).toBe(stats.at(-1).stats.attempts);
    expect(rebuilt.hosts.client.samples).toBe(
      lines.map((l) => JSON.parse(l)).filter((e) => e.type === 'sample' && e.host === 'client').length,
    );
  });
});

describe('an engine that cannot start', () => {
  it("ends the run with exit 4 and the agent's reason in report.json, and leaves no namespace", async () => {
    const dir = join(tempDir(), 'run');
    const cli = runCli(['scenario', 'test/fixtures/scenarios/nginx-fails.ts', '--out', dir, '--no-progress']);
    expect(await cli.exit).toBe(4);
    expect(cli.stderr()).toMatch(/agent on host proxy failed: \/bin\/false -v did not print an nginx version/);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report).toMatchObject({ verdict: 'error', errorCode: 'WAITLAB_AGENT' });
    expect(labNamespaces(cli.child.pid)).toEqual([]);
  });
});

describe('a tiny open-files limit', () => {
  it('is named with its fix before anything loads, exit 3, instead of a misleading module error', () => {
    const out = execFileSync(
      'sh',
      [
        '-c',
        `prlimit --nofile=60:60 "$0" "$1" scenario short-conn --no-progress 2>&1; echo "exit=$?"`,
        process.execPath,
        BIN,
      ],
      { encoding: 'utf8' },
    );
    expect(out).toMatch(/the open-files limit is 60; waitlab needs at least 256 \(raise it: ulimit -n 4096\)/);
    expect(out).toMatch(/exit=3$/m);
  });
});

describe('an agent killed in the middle of the load', () => {
  it('ends the run with exit 4 naming the host, a whole report.json, and no namespace or agent left', async () => {
    const { cli, dir, agent } = await shortConnUnderLoad('5s', 'server');
    const pid = cli.child.pid!;
    process.kill(agent, 'SIGKILL');
    expect(await cli.exit).toBe(4);
    expect(cli.stderr()).toMatch(/agent on host server exited \(SIGKILL\)/);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report).toMatchObject({ verdict: 'error', errorCode: 'WAITLAB_AGENT' });
    expect(labNamespaces(pid)).toEqual([]);
    expect(agentPids(pid)).toEqual([]);
  });
});
