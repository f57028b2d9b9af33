// Issue 21's "Why" cases 1, 2, 3 and 6, each on a fixture of a real run (test/fixtures/reports/README.md).
import { describe, expect, it } from 'vitest';
import { findings } from '../../src/report/findings/index.ts';
import { predict } from '../../src/report/predictions.ts';
import type { Report } from '../../src/report/report.ts';
import { host, loadReportFixture, only, stats } from './fixture.ts';

const run = (report: Report) => predict(report.scenario.plan, report.hosts, report.actors);
const within20 = (ratio: number | null) => ratio !== null && ratio >= 0.8 && ratio <= 1.2;

describe('why 1: predictions take the rate at which connect() was called', () => {
  it("400/s on 200 ports, tcp_tw_reuse=0: the first EADDRNOTAVAIL from attempts over the load, not the first second's capped connections", () => {
    const report = loadReportFixture('short-conn--rate-400-ports-200');
    const flood = stats(report, 'flood');
    const e = run(report)['flood']!.exhaustion!;
    const calls = (flood['attempts'] / flood['durationMs']) * 1000;
    // The first second made only 200 connections (the whole range): the old prediction was 200 / 200 per s = 1 s.
    expect(flood['connectRate']).toBeLessThan(210);
    expect(e.connectRate).toBe(Math.round(calls * 10) / 10);
    expect(e.predictedMs).toBe(Math.round((200 / calls) * 1000));
    expect(e.plannedRate).toBe(400);
    expect(within20(e.ratio)).toBe(true);
  });

  it('400/s on 200 ports, tcp_tw_reuse=1: 200 ports fill before any entry is 1 s old, so the first failure is predicted, not "does not apply"', () => {
    const e = run(loadReportFixture('short-conn--rate-400-ports-200-tw-reuse-1'))['flood']!.exhaustion!;
    expect(e.predictedMs).not.toBeNull();
    expect(e.basis).toContain('the offered rate exceeds the sustainable 200 ports / 1,000 ms');
    expect(within20(e.ratio)).toBe(true);
  });

  it('states the planned rate beside it and says when the load could not keep up', () => {
    const report = loadReportFixture('short-conn--rate-400-ports-200');
    expect(run(report)['flood']!.exhaustion!.basis).toContain(', as planned (400 per s)');
    // This run's plan carries its connection model: the planned rate is read there.
    (report.scenario.plan.actors['flood']!.connections!.load as { ratePerSec: number }).ratePerSec = 1500;
    const e = run(report)['flood']!.exhaustion!;
    expect(e.plannedRate).toBe(1500);
    expect(e.basis).toContain('1,500 per s were planned and the load could not keep up');
  });
});

describe('why 2: the sustainable rate under tcp_tw_reuse, and remedies not already in force', () => {
  it('400/s on 200 ports with tcp_tw_reuse=1: 200 ports / 1,000 ms = 200 per s sustainable, measured over the load', () => {
    const s = run(loadReportFixture('short-conn--rate-400-ports-200-tw-reuse-1'))['flood']!.sustainableRate!;
    expect(s).toMatchObject({ usablePorts: 200, delayMs: 1000, predicted: 200 });
    expect(s.offered).toBeGreaterThan(200);
    expect(within20(s.ratio)).toBe(true);
  });

  it('150/s on 200 ports with tcp_tw_reuse=1: the half cycles 100 per s, so connect() spills and TIME_WAIT fills the range (it predicted 150)', () => {
    const report = loadReportFixture('short-conn--rate-150-ports-200-tw-reuse-1');
    const p = run(report)['flood']!;
    expect(p.timeWait!.predicted).toBe(200);
    expect(within20(p.timeWait!.ratio)).toBe(true);
    expect(p.sustainableRate!.measured).toBeNull();
    expect(p.exhaustion!.predictedMs).toBeNull();
  });

  it('the EADDRNOTAVAIL finding under tcp_tw_reuse=1 with timestamps on does not suggest that setting, but a shorter delay', () => {
    const report = loadReportFixture('short-conn--rate-400-ports-200-tw-reuse-1');
    expect(host(report, 'client').sysctls['net.ipv4.tcp_tw_reuse']).toBe('1');
    const s = only(
      findings(report.scenario.plan, { ...report, predictions: run(report) }),
      'EADDRNOTAVAIL ("Cannot assign requested address")',
    );
    expect(s).not.toContain('tcp_tw_reuse=1 with timestamps on');
    expect(s).toContain('a shorter tcp_tw_reuse_delay (now 1,000 ms');
    // Where it is not in force, it stays a remedy.
    const off = only(
      findings(
        loadReportFixture('short-conn--rate-400-ports-200').scenario.plan,
        loadReportFixture('short-conn--rate-400-ports-200'),
      ),
      'EADDRNOTAVAIL ("Cannot assign requested address")',
    );
    expect(off).toContain('tcp_tw_reuse=1 with timestamps on');
  });
});

describe('why 3: the parity cliff at half the range', () => {
  /** The short-conn run's numbers set to the flood: 3,000/s on ports 20000-60999, 10 s. */
  function wideFlood(connected: number): Report {
    const report = loadReportFixture('short-conn');
    host(report, 'client').sysctls['net.ipv4.ip_local_port_range'] = '20000\t60999';
    Object.assign(report.actors['flood']!, { attempts: 30_000, durationMs: 10_000, connected, missedStarts: 0 });
    (report.scenario.plan.actors['flood']!.options as Record<string, unknown>)['rate'] = 3000;
    return report;
  }

  it('predicts and names the cliff where the connections pass the 20,500 ports connect() tries first', () => {
    const c = run(wideFlood(24_000))['flood']!.parityCliff!;
    expect(c).toMatchObject({ halfPorts: 20_500, predictedAtMs: 6833, connected: 24_000, crossed: true });
    // 1 s / (20,500 ports x 115 ns): within the 300-550 per s the turn-3 run measured.
    expect(c.slowedRate).toBeGreaterThanOrEqual(300);
    expect(c.slowedRate).toBeLessThanOrEqual(550);
  });

  it('says so in the missed-starts finding', () => {
    const report = wideFlood(24_000);
    Object.assign(report.actors['flood']!, { missedStarts: 6000 });
    const s = only(
      findings(report.scenario.plan, { ...report, predictions: run(report) }),
      'missed 6,000 scheduled starts',
    );
    expect(s).toContain('passed 20,500, the half of its port range connect() tries first');
  });

  it('no cliff on a 1,000-port range: a scan of 500 ports is far faster than 300 connections per s', () => {
    expect(run(loadReportFixture('short-conn'))['flood']!.parityCliff).toBeUndefined();
  });
});

describe('why 6: floods counted in one place are compared host-wide', () => {
  it("four floods to one server host: its TIME_WAIT from their one source address against their predictions added up, not one flood's", () => {
    const report = loadReportFixture('address-in-use-restart');
    const p = run(report);
    const floods = ['to-off-off', 'to-off-on', 'to-on-off', 'to-on-on'];
    const together = floods.reduce((sum, a) => sum + p[a]!.timeWait!.predicted!, 0);
    for (const a of floods) {
      const tw = p[a]!.timeWait!;
      expect(tw.sharedWith).toEqual(floods.filter((f) => f !== a));
      expect(tw.predictedTogether).toBe(together);
      expect(tw.ratio).toBe(Math.round((tw.measured / together) * 1000) / 1000);
      // One flood's prediction against the host-wide count was 3.06.
      expect(tw.measured / tw.predicted!).toBeGreaterThan(3);
    }
  });
});
