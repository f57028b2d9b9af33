// The library as a program uses it (src/index.ts, the package's 'waitlab'): run() on the catalogue's short-conn
// for 2 s against the committed 6 s baseline, then compare() on the run directory it left. 300/s for 2 s is 600
// connections, within the client's 1000 ports: no EADDRNOTAVAIL, and the kernel counts one TIME_WAIT per
// connection the client closed; the baseline's 6 s run filled all 1000 ports, so the comparison must call the
// TIME_WAIT count a regression (its tolerance is ±1%) and warn that the parameters differ.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compare, isWaitlabError, readReport, run, type ActorReportOfKind, type Progress } from '../../src/index.ts';
import { labNamespaces } from '../helpers/lab.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const BASELINE = resolve('baselines/short-conn');

describe('run() and compare() from a program', () => {
  it("runs short-conn for 2 s, reports the kernel's counts, and compares them with the baseline", async () => {
    const progress: Progress[] = [];
    const warnings: string[] = [];
    const outcome = await run('short-conn', {
      set: { duration: '2s' },
      baseline: BASELINE,
      out: tempDir(),
      onProgress: (p) => progress.push(p),
      onWarning: (w) => warnings.push(w),
    });
    expect(labNamespaces(process.pid)).toEqual([]);
    const { report, dir } = outcome;

    expect(report.verdict).toBe('pass');
    expect(report.scenario.plan.params['duration']).toBe(2000);
    const flood = report.actors['flood'] as ActorReportOfKind<'short-conn-client'>;
    const client = report.hosts['client']!.counters.delta;
    expect(flood.errorCount).toBe(0);
    expect(flood.connected).toBeGreaterThan(0);
    // Every connection made was the kernel's: opened actively by the client, and closed by it first (one TIME_WAIT each).
    expect(client['Tcp.ActiveOpens']).toBe(flood.connected);
    expect(client['TcpExt.TW']).toBe(flood.connected);
    expect(report.hosts['client']!.peak.total.TIME_WAIT).toBe(flood.connected);
    expect(flood.connected).toBeLessThan(1000);

    expect(
      progress.some((p) => p.phase === 'load' && p.hosts['client'] !== undefined && p.actors['flood'] !== undefined),
    ).toBe(true);
    expect(warnings).toEqual([expect.stringMatching(/recorded with other parameters .*duration 6000 -> 2000/)]);

    // Thresholds held, the baseline did not: exit 5, as `waitlab scenario --baseline` exits.
    expect(report.comparison?.verdict).toBe('regression');
    expect(outcome.exitCode).toBe(5);
    const tw = report.comparison!.metrics.find((m) => m.path === 'hosts.client.counters.delta.TcpExt.TW');
    expect(tw).toMatchObject({ verdict: 'regression', baseline: 1000, current: flood.connected });

    // compare() on what the run left on disk says the same.
    const comparison = compare(BASELINE, dir);
    expect(comparison.verdict).toBe('regression');
    expect(comparison.regressions).toBe(report.comparison!.regressions);
    expect(comparison.metrics.find((m) => m.path === tw!.path)).toMatchObject({
      verdict: 'regression',
      baseline: 1000,
      current: flood.connected,
    });
    expect(comparison.warnings.join('\n')).toMatch(/duration/);
    // And a run compared with itself passes: readReport() gives the same report back.
    expect(compare(dir, readReport(dir)).verdict).toBe('pass');
  }, 120_000);

  it('refuses a baseline of another scenario before any lab exists', async () => {
    const err = await run('short-conn', {
      set: { duration: '2s' },
      baseline: resolve('baselines/proxy-keepalive-upstream'),
      out: tempDir(),
    }).catch((e: unknown) => e);
    expect(isWaitlabError(err) && err.code).toBe('WAITLAB_USAGE');
    expect((err as Error).message).toMatch(/is a baseline of proxy-keepalive-upstream, not of short-conn/);
    expect(labNamespaces(process.pid)).toEqual([]);
  });
});
