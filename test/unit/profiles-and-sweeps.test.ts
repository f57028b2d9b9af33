// Profiles, sweeps and the comparison of runs, without a lab: parsing, which hosts a profile reaches, value
// checks before any lab, and findings across runs built from real reports (fixtures).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandMatrix } from '../../src/controller/run-matrix.ts';
import { PlanValidationError } from '../../src/core/errors.ts';
import { loadPlan } from '../../src/plan/load-plan.ts';
import { BUILT_IN_PROFILES, loadProfile } from '../../src/plan/profiles.ts';
import { matrixHeader, matrixText } from '../../src/outputs/matrix-summary.ts';
import { parseSweep } from '../../src/plan/sweep.ts';
import { sysctlValueProblem } from '../../src/plan/sysctl-values.ts';
import { compareRuns, matrixRun } from '../../src/report/matrix.ts';
import { loadReportFixture } from './fixture.ts';
import { tempDir } from '../helpers/temp-dir.ts';

describe('sweeps', () => {
  it('reads lists, factors and steps', () => {
    expect(parseSweep('rate=100/s,300/s,1000/s')).toEqual({ param: 'rate', values: ['100/s', '300/s', '1000/s'] });
    expect(parseSweep('rate=100..800x2').values).toEqual(['100', '200', '400', '800']);
    expect(parseSweep('count=1000..4000+1000').values).toEqual(['1000', '2000', '3000', '4000']);
  });
  it('refuses what it cannot read', () => {
    expect(() => parseSweep('rate')).toThrow(/expected <param>=/);
    expect(() => parseSweep('rate=800..100')).toThrow(/is below/);
    expect(() => parseSweep('rate=1..2x1')).toThrow(/factor above 1/);
    expect(() => parseSweep('rate=1,1')).toThrow(/listed twice/);
  });
  it('profiles and values make a matrix, profile by profile', () => {
    const m = expandMatrix(
      ['default', 'tw-reuse'],
      { param: 'rate', values: ['100/s', '300/s'] },
      { ports: '40000-40199' },
    );
    expect(m.map((e) => e.label)).toEqual([
      'default rate=100/s',
      'default rate=300/s',
      'tw-reuse rate=100/s',
      'tw-reuse rate=300/s',
    ]);
    expect(m[3]).toEqual({
      label: 'tw-reuse rate=300/s',
      profile: 'tw-reuse',
      overrides: { ports: '40000-40199', rate: '300/s' },
    });
  });
});

describe('profiles', () => {
  it('reach hosts by role: the client opens connections, the server accepts', async () => {
    const reuse = await loadPlan('short-conn', {}, { profile: loadProfile('tw-reuse') });
    expect(reuse.profile!.changes).toEqual({ client: { 'net.ipv4.tcp_tw_reuse': { scenario: '0', profile: '1' } } });
    expect(reuse.hosts['client']!.sysctls['net.ipv4.tcp_tw_reuse']).toBe('1');
    const all = await loadPlan('short-conn', {}, { profile: loadProfile('rfc1337') });
    expect(Object.keys(all.profile!.changes).sort()).toEqual(['client', 'server']);
  });

  it('from a file, by host name; a value the kernel would refuse is a problem before any lab', async () => {
    const dir = tempDir('waitlab-profile-');
    const good = join(dir, 'mine.json');
    writeFileSync(
      good,
      JSON.stringify({ name: 'mine', description: 'd', sysctls: { server: { 'net.ipv4.tcp_fin_timeout': 7 } } }),
    );
    const plan = await loadPlan('short-conn', {}, { profile: loadProfile(good) });
    expect(plan.profile).toMatchObject({
      name: 'mine',
      source: good,
      changes: { server: { 'net.ipv4.tcp_fin_timeout': { scenario: null, profile: '7' } } },
    });
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({
        name: 'bad',
        sysctls: { client: { 'net.ipv4.tcp_tw_reuse': 3 }, nohost: { 'net.ipv4.tcp_fin_timeout': 1 } },
      }),
    );
    const err = await loadPlan('short-conn', {}, { profile: loadProfile(bad) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanValidationError);
    expect((err as Error).message).toMatch(/net\.ipv4\.tcp_tw_reuse = 3: out of range 0\.\.2 \(from profile bad\)/);
    expect((err as Error).message).toMatch(/"nohost" is not connecting, accepting, all or a host of this scenario/);
    expect(() => loadProfile('nope')).toThrow(/no profile "nope": built in are default, tw-reuse/);
  });

  it('sysctl values are checked as the kernel checks them', () => {
    expect(sysctlValueProblem('net.ipv4.ip_local_port_range', '40000 40999')).toBeUndefined();
    expect(sysctlValueProblem('net.ipv4.ip_local_port_range', '1 1')).toMatch(/1024 <= LO <= HI/);
    expect(sysctlValueProblem('net.ipv4.ip_local_port_range', '40001 40000')).toMatch(/LO <= HI/);
    expect(sysctlValueProblem('net.ipv4.tcp_tw_reuse_delay', '0')).toMatch(/out of range 1\.\./);
    expect(sysctlValueProblem('net.ipv4.tcp_timestamps', 'on')).toMatch(/expected an integer/);
  });
});

describe('findings across runs, from real reports', () => {
  it("say that tcp_tw_reuse removed the failures, with the kernel's TWRecycled as the evidence", () => {
    const base = loadReportFixture('short-conn');
    const reuse = loadReportFixture('short-conn--tw-reuse-1');
    const runs = [
      matrixRun(base, 'twReuse=0', '01', { twReuse: '0' }),
      matrixRun(reuse, 'twReuse=1', '02', { twReuse: '1' }),
    ];
    const c = compareRuns('short-conn', runs, 'twReuse', {});
    const recycled = reuse.hosts['client']!.counters.delta['TcpExt.TWRecycled']!;
    expect(recycled).toBeGreaterThan(0);
    const was = runs[0]!.errors['EADDRNOTAVAIL']!;
    const now = runs[1]!.errors['EADDRNOTAVAIL'] ?? 0;
    const sentence = c.findings.find((f) => f.startsWith('twReuse=1 '))!;
    expect(sentence).toContain(
      now === 0
        ? `removed all ${was.toLocaleString('en-US')} EADDRNOTAVAIL`
        : `reduced EADDRNOTAVAIL from ${was.toLocaleString('en-US')}`,
    );
    expect(sentence).toContain(`TcpExt.TWRecycled +${recycled.toLocaleString('en-US')} on client`);
    // Judged by predictions, not by short-conn's thresholds (which demand exhaustion): both runs went as predicted.
    expect(reuse.verdict).toBe('fail');
    expect(c.verdict).toBe('pass');
  });
});

describe('a profile comparison answers which change cured it (issue 21, Why 8)', () => {
  const costs = Object.fromEntries(BUILT_IN_PROFILES.flatMap((p) => (p.cost ? [[p.name, p.cost]] : [])));
  const asProfile = (
    name: string,
    report = loadReportFixture(name === 'default' ? 'short-conn' : 'short-conn--tw-reuse-1'),
  ) => {
    report.profile = { name, source: 'built-in', changes: {} } as unknown as typeof report.profile;
    return report;
  };

  it('default reproduced as predicted, tw-reuse cured as predicted: the headline names the cure and its cost, and the comparison passes', () => {
    const base = asProfile('default');
    const reuse = asProfile('tw-reuse');
    const c = compareRuns(
      'short-conn',
      [matrixRun(base, 'default', '01', {}), matrixRun(reuse, 'tw-reuse', '02', {})],
      null,
      costs,
    );
    const was = c.runs[0]!.errors['EADDRNOTAVAIL']!;
    expect(was).toBe(800);
    expect(c.problem).toEqual({ code: 'EADDRNOTAVAIL', count: was });
    expect(c.cures).toEqual([
      {
        label: 'tw-reuse',
        code: 'EADDRNOTAVAIL',
        before: was,
        after: 0,
        cost: costs['tw-reuse'],
        postponedToMs: null,
        loadMs: 6000,
      },
    ]);
    expect(c.runs.map((r) => r.outcome.verdict)).toEqual(['reproduced as predicted', 'cured as predicted']);
    // The scenario's thresholds demand exhaustion; the curing run failed them, and says why.
    expect(reuse.verdict).toBe('fail');
    expect(c.runs[1]!.outcome.why).toContain(
      'threshold actors.flood.errors.EADDRNOTAVAIL.count > 0 failed because the problem did not reproduce',
    );
    expect(c.verdict).toBe('pass');
    expect(matrixHeader(c)).toEqual([
      `short-conn: 2 runs: tw-reuse cured it: 0 of ${was} EADDRNOTAVAIL; cost: ${costs['tw-reuse']}`,
      'every run as predicted',
    ]);
    expect(matrixText(c)).not.toMatch(/FAIL|failed its thresholds/);
  });

  it('a run whose exhaustion came far from its prediction is not as predicted, and fails the comparison', () => {
    const base = asProfile('default');
    const early = asProfile('default', loadReportFixture('short-conn'));
    early.predictions.flood!.exhaustion = { ...early.predictions.flood!.exhaustion!, measuredMs: 1_667, ratio: 0.5 };
    const c = compareRuns('short-conn', [matrixRun(base, 'a', '01', {}), matrixRun(early, 'b', '02', {})], null, costs);
    expect(c.runs[1]!.outcome).toMatchObject({ verdict: 'not as predicted', matched: false });
    expect(c.runs[1]!.outcome.why[0]).toMatch(
      /first EADDRNOTAVAIL at 1\.67 s, predicted 3\.33 s \(measured\/predicted 0\.5\)/,
    );
    expect(c.verdict).toBe('fail');
    expect(matrixHeader(c)[1]).toBe('not as predicted: b');
  });
});
