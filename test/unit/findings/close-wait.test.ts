import { describe, expect, it } from 'vitest';
import { closeWaitFindings } from '../../../src/report/findings/close-wait.ts';
import type { Report } from '../../../src/report/report.ts';
import { claimed, claimValue, host, loadReportFixture, runFindings, stats } from '../fixture.ts';

/** The load window and the CLOSE_WAIT column, read from the fixture itself. */
function growth(report: Report, hostName: string) {
  const load = Object.values(report.scenario.plan.actors)
    .filter((a) => a.role === 'load')
    .map((a) => stats(report, a.name));
  const startMs = Math.min(...load.map((s) => Number(s['startedAtMs'])));
  const endMs = Math.max(...load.map((s) => Number(s['startedAtMs']) + Number(s['durationMs'])));
  const { t, states } = host(report, hostName).series;
  const at = (ms: number) => {
    let v = 0;
    for (let i = 0; i < t.length && t[i]! <= ms; i++) v = states.CLOSE_WAIT?.[i] ?? 0;
    return v;
  };
  const grown = at(endMs) - at(startMs);
  return { grown, perSecond: grown / ((endMs - startMs) / 1000) };
}

describe('closeWaitFindings', () => {
  it("close-wait-leak: the server's CLOSE_WAIT grows with the load and stays, leaked by closeStyle never, per peer", () => {
    const report = loadReportFixture('close-wait-leak');
    const server = host(report, 'server');
    const out = runFindings(closeWaitFindings, report);
    expect(out.map((f) => [f.rule, f.host, f.peers])).toEqual([['close-wait', 'server', ['client']]]);
    expect(claimValue(out, 'server', 'statePeak', 'CLOSE_WAIT')).toBe(server.peak.total.CLOSE_WAIT);
    expect(claimValue(out, 'server', 'stateFinal', 'CLOSE_WAIT')).toBe(server.final.CLOSE_WAIT);
    expect(claimValue(out, 'server', 'statePeakAtMs', 'CLOSE_WAIT')).toBe(server.peak.atMs.CLOSE_WAIT);
    // Per peer: the client's address, as the server's census lists it, is host client.
    expect(claimed(out, 'peerStatePeak', 'CLOSE_WAIT').map((c) => [c.value, c.peers])).toEqual([
      [server.peak.peers.listen['198.18.0.1']!.CLOSE_WAIT, ['client']],
    ]);
    const g = growth(report, 'server');
    expect(g.grown).toBeGreaterThan(0);
    expect(claimValue(out, 'server', 'stateGrowth', 'CLOSE_WAIT')).toBe(g.grown);
    expect(claimValue(out, 'server', 'stateGrowthRate', 'CLOSE_WAIT')).toBeCloseTo(g.perSecond, 6);
    expect(claimValue(out, 'server', 'leakedSockets')).toBe(stats(report, 'web')['leaked']);
    expect(claimValue(out, 'server', 'heldSockets')).toBe(0);
  });

  it('fin-wait-2: the client holds CLOSE_WAIT toward both servers, held by closeStyle never', () => {
    const report = loadReportFixture('fin-wait-2');
    const client = host(report, 'client');
    const out = runFindings(closeWaitFindings, report).filter((f) => f.host === 'client');
    const perPeer = claimed(out, 'peerStatePeak', 'CLOSE_WAIT');
    expect(perPeer.map((c) => c.value)).toEqual(
      Object.values(client.peak.peers.ephemeral).flatMap((c) => (c.CLOSE_WAIT ? [c.CLOSE_WAIT] : [])),
    );
    expect(new Set(perPeer.map((c) => c.peers.length))).toEqual(new Set([1]));
    expect(claimValue(out, 'client', 'heldSockets')).toBe(
      Number(stats(report, 'flood')['held']) + Number(stats(report, 'shut-flood')['held']),
    );
    expect(claimValue(out, 'client', 'stateGrowth', 'CLOSE_WAIT')).toBe(growth(report, 'client').grown);
  });

  it("says nothing about a CLOSE_WAIT caught in passing (short-conn's server) or none at all", () => {
    const sc = loadReportFixture('short-conn');
    expect(host(sc, 'server').peak.total.CLOSE_WAIT).toBeGreaterThan(0);
    expect(host(sc, 'server').final.CLOSE_WAIT).toBe(0);
    expect(runFindings(closeWaitFindings, sc)).toEqual([]);
    expect(runFindings(closeWaitFindings, loadReportFixture('rst-close'))).toEqual([]);
  });

  it('reacts to the fixture: nothing left and nothing leaked, a flat series', () => {
    const gone = loadReportFixture('close-wait-leak');
    host(gone, 'server').final.CLOSE_WAIT = 0;
    stats(gone, 'web')['leaked'] = 0;
    expect(runFindings(closeWaitFindings, gone)).toEqual([]);

    const flat = loadReportFixture('close-wait-leak');
    const series = host(flat, 'server').series;
    series.states.CLOSE_WAIT = series.t.map(() => 7);
    const out = runFindings(closeWaitFindings, flat);
    expect(claimValue(out, 'server', 'stateGrowth', 'CLOSE_WAIT')).toBe(0);
    expect(claimValue(out, 'server', 'stateGrowthRate', 'CLOSE_WAIT')).toBe(0);
  });

  it("process-close-wait: the user's process, with the CLOSE_WAIT its own fds held", () => {
    const report = loadReportFixture('process-close-wait');
    const api = stats(report, 'api');
    const out = runFindings(closeWaitFindings, report);
    expect(api['sockets'].peak.CLOSE_WAIT).toBe(host(report, 'server').final.CLOSE_WAIT);
    expect(claimValue(out, 'server', 'processCloseWait')).toBe(api['sockets'].peak.CLOSE_WAIT);
    expect(claimValue(out, 'server', 'leakedSockets')).toBe(0);
  });

  it('claims no process where a process held no CLOSE_WAIT', () => {
    const report = loadReportFixture('process-close-wait');
    stats(report, 'api')['sockets'].peak = { LISTEN: 1 };
    expect(claimed(runFindings(closeWaitFindings, report), 'processCloseWait')).toEqual([]);
  });
});
