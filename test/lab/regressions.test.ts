// The regression workflow as CI uses it, on real runs: a baseline recorded from runs of
// proxy-keepalive-upstream, a run within tolerance (exit 0), the same scenario with its upstream keep-alive
// pool turned off (the proxy opens a connection per request: its own thresholds fail, exit 1, and the
// comparison names the regressions), `waitlab compare` on that run (exit 5), junit.xml and the GitHub
// conventions (annotations only under GITHUB_ACTIONS, summary.md appended to GITHUB_STEP_SUMMARY).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { beforeAll, expect, it } from 'vitest';
import { labNamespaces, labsLeftSince, runCli, tempDir } from '../helpers/lab.ts';
import { describeWithTools } from '../helpers/tools.ts';

// Counts here are fixed by the plan (400 requests); latency on a 2-core machine running a test suite is not,
// and this test is about the workflow, so p99 gets a loose tolerance.
const SHORT = ['--set', 'duration=1s', '--set', 'rate=200/s', '--tolerance', 'actors.flood.latencyMs.p99=+500%'];
const junit = (dir: string) =>
  new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    isArray: (n) => n === 'testcase' || n === 'property',
  }).parse(readFileSync(join(dir, 'junit.xml'), 'utf8')).testsuites.testsuite;

describeWithTools(['nginx'], 'baselines and regressions', () => {
  const baseline = tempDir();
  beforeAll(async () => {
    const cli = runCli(['baseline', 'proxy-keepalive-upstream', '--runs', '2', '--out', baseline, ...SHORT]);
    expect(await cli.exit).toBe(0);
  }, 120_000);

  it('records a baseline of medians and spreads from its runs', () => {
    const b = JSON.parse(readFileSync(join(baseline, 'baseline.json'), 'utf8'));
    expect(b).toMatchObject({
      kind: 'waitlab-baseline',
      runs: ['run-1', 'run-2'],
      identity: { scenario: 'proxy-keepalive-upstream' },
    });
    const runs = b.runs.map((r: string) => JSON.parse(readFileSync(join(baseline, r, 'report.json'), 'utf8')));
    const opens = runs.map(
      (r: { hosts: Record<string, { counters: { delta: Record<string, number> } }> }) =>
        r.hosts.client!.counters.delta['Tcp.ActiveOpens']!,
    );
    expect(b.metrics['hosts.client.counters.delta.Tcp.ActiveOpens']).toBe((opens[0] + opens[1]) / 2);
    expect(b.min['hosts.client.counters.delta.Tcp.ActiveOpens']).toBe(Math.min(...opens));
  });

  it('passes a run within tolerance: exit 0, every compared metric a passing testcase', async () => {
    const dir = tempDir();
    const summary = join(tempDir(), 'step-summary.md');
    writeFileSync(summary, '');
    const cli = runCli(
      ['scenario', 'proxy-keepalive-upstream', ...SHORT, '--baseline', baseline, '--out', dir, '--no-progress'],
      {
        env: { ...process.env, GITHUB_STEP_SUMMARY: summary, GITHUB_ACTIONS: 'false' },
      },
    );
    expect(await cli.exit).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report.comparison.verdict).toBe('pass');
    const cases = junit(dir).testcase.filter((c: { classname: string }) =>
      c.classname.startsWith('waitlab.proxy-keepalive-upstream.regressions.'),
    );
    expect(cases).toHaveLength(report.comparison.metrics.length);
    expect(cases.filter((c: object) => 'failure' in c)).toEqual([]);
    expect(readFileSync(summary, 'utf8')).toBe(`${readFileSync(join(dir, 'summary.md'), 'utf8')}\n`);
    expect(cli.stdout()).not.toMatch(/::error/);
  });

  it('catches the proxy that lost its keep-alive pool, and `waitlab compare` exits 5 with the table', async () => {
    const dir = tempDir();
    const cli = runCli(
      [
        'scenario',
        'proxy-keepalive-upstream',
        ...SHORT,
        '--set',
        'keepAlive=0',
        '--baseline',
        baseline,
        '--out',
        dir,
        '--no-progress',
      ],
      {
        env: { ...process.env, GITHUB_ACTIONS: 'true' },
      },
    );
    // Its own thresholds fail too (hostActiveOpens), and they decide the exit code: 1.
    expect(await cli.exit).toBe(1);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    const proxyOpens = report.hosts.proxy.counters.delta['Tcp.ActiveOpens'];
    expect(report.comparison.verdict).toBe('regression');
    expect(
      report.comparison.metrics.find((m: { path: string }) => m.path === 'hosts.proxy.counters.delta.Tcp.ActiveOpens'),
    ).toMatchObject({ verdict: 'regression', current: proxyOpens });
    expect(cli.stdout()).toMatch(
      /^::error title=waitlab proxy-keepalive-upstream%3A regression::hosts\.proxy\.counters\.delta\.Tcp\.ActiveOpens: /m,
    );
    expect(cli.stdout()).toMatch(
      /^::warning title=waitlab proxy-keepalive-upstream%3A comparison::different parameters: keepAlive 16 -> 0$/m,
    );

    const out = tempDir();
    const compare = runCli(['compare', baseline, dir, '--out', out]);
    expect(await compare.exit).toBe(5);
    expect(compare.stderr()).toMatch(/REGRESSION +hosts\.proxy\.counters\.delta\.Tcp\.ActiveOpens +connections opened/);
    // A case is named by the registry; its report path is its own property.
    const failing = junit(out)
      .testcase.filter((c: object) => 'failure' in c)
      .map(
        (c: { properties: { property: { name: string; value: string }[] } }) =>
          c.properties.property.find((p) => p.name === 'path')?.value,
      );
    expect(failing).toContain('hosts.proxy.counters.delta.Tcp.ActiveOpens');
    expect(JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')).regressions).toBe(report.comparison.regressions);
  });

  it('refuses, before any lab, a baseline of another scenario and a threshold on a path that cannot exist', async () => {
    const before = labNamespaces();
    const other = runCli(['scenario', 'short-conn', '--baseline', baseline]);
    expect(await other.exit).toBe(2);
    expect(other.stderr()).toMatch(/is a baseline of proxy-keepalive-upstream, not of short-conn/);
    const bad = runCli([
      'scenario',
      'short-conn',
      '--threshold',
      'hosts.nohost.peak.total.TIME_WAIT < 5',
      '--threshold',
      'actors.flood.ok >',
    ]);
    expect(await bad.exit).toBe(2);
    expect(bad.stderr()).toMatch(
      /--threshold: hosts\.nohost\.peak\.total\.TIME_WAIT: no host "nohost" \(known: client, server\)/,
    );
    expect(bad.stderr()).toMatch(/--threshold: "actors\.flood\.ok >" is not "<path> <op> <number>"/);
    expect(labsLeftSince(before)).toEqual([]);
  });
});
