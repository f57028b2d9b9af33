import { describe, expect, it } from 'vitest';
import { closeWaitFindings } from '../../../src/report/findings/close-wait.ts';
import type { Report } from '../../../src/report/report.ts';
import { dur, host, loadReportFixture, n, only, runRule, stats } from '../fixture.ts';

/** The load window and the CLOSE_WAIT column, read from the fixture itself. */
function growth(report: Report, hostName: string) {
  const load = Object.values(report.scenario.plan.actors).filter((a) => a.role === 'load').map((a) => stats(report, a.name));
  const startMs = Math.min(...load.map((s) => Number(s['startedAtMs'])));
  const endMs = Math.max(...load.map((s) => Number(s['startedAtMs']) + Number(s['durationMs'])));
  const { t, states } = host(report, hostName).series;
  const at = (ms: number) => {
    let v = 0;
    for (let i = 0; i < t.length && t[i]! <= ms; i++) v = states.CLOSE_WAIT?.[i] ?? 0;
    return v;
  };
  const grown = at(endMs) - at(startMs);
  return { grown, perSecond: (grown / ((endMs - startMs) / 1000)).toFixed(1) };
}

describe('closeWaitFindings', () => {
  it('close-wait-leak: the server\'s CLOSE_WAIT grows with the load and stays, leaked by closeStyle never', () => {
    const report = loadReportFixture('close-wait-leak');
    const server = host(report, 'server');
    const out = runRule(closeWaitFindings, report);
    expect(out).toHaveLength(1);
    const s = only(out, 'CLOSE_WAIT on host server');
    const perPeer = Object.entries(server.peak.peers.listen).filter(([, c]) => (c.CLOSE_WAIT ?? 0) > 0).map(([p, c]) => `${n(c.CLOSE_WAIT!)} with ${p}`).join(', ');
    expect(perPeer).toContain('with 198.18.0.1');
    expect(s).toContain(`CLOSE_WAIT on host server: peak ${n(server.peak.total.CLOSE_WAIT)} at ${dur(server.peak.atMs.CLOSE_WAIT!)}, ${n(server.final.CLOSE_WAIT)} still there at the last sample (${perPeer}).`);
    const g = growth(report, 'server');
    expect(g.grown).toBeGreaterThan(0);
    expect(s).toContain(`It grew by ${n(g.grown)} while the load ran (${g.perSecond} per second).`);
    expect(s).toContain(`The server on this host got each peer's FIN and never closed its socket (${n(stats(report, 'web')['leaked'])} leaked by closeStyle never).`);
    expect(s).not.toContain('The client on this host');
    expect(s).toContain('no sysctl or timer ends it');
  });

  it('fin-wait-2: the client holds CLOSE_WAIT toward both servers, held by closeStyle never', () => {
    const report = loadReportFixture('fin-wait-2');
    const client = host(report, 'client');
    const s = only(runRule(closeWaitFindings, report), 'CLOSE_WAIT on host client');
    for (const [peer, c] of Object.entries(client.peak.peers.ephemeral)) if (c.CLOSE_WAIT) expect(s).toContain(`${n(c.CLOSE_WAIT)} with ${peer}`);
    const held = Number(stats(report, 'flood')['held']) + Number(stats(report, 'shut-flood')['held']);
    expect(s).toContain(`The client on this host held its sockets open after the peer's FIN (${n(held)} held by closeStyle never).`);
    expect(s).toContain(`It grew by ${n(growth(report, 'client').grown)} while the load ran`);
  });

  it('says nothing about a CLOSE_WAIT caught in passing (short-conn\'s server) or none at all', () => {
    const sc = loadReportFixture('short-conn');
    expect(host(sc, 'server').peak.total.CLOSE_WAIT).toBeGreaterThan(0);
    expect(host(sc, 'server').final.CLOSE_WAIT).toBe(0);
    expect(runRule(closeWaitFindings, sc)).toEqual([]);
    expect(runRule(closeWaitFindings, loadReportFixture('rst-close'))).toEqual([]);
  });

  it('reacts to the fixture: nothing left and nothing leaked, a flat series', () => {
    const gone = loadReportFixture('close-wait-leak');
    host(gone, 'server').final.CLOSE_WAIT = 0;
    stats(gone, 'web')['leaked'] = 0;
    expect(runRule(closeWaitFindings, gone)).toEqual([]);

    const flat = loadReportFixture('close-wait-leak');
    const series = host(flat, 'server').series;
    series.states.CLOSE_WAIT = series.t.map(() => 7);
    expect(only(runRule(closeWaitFindings, flat), 'CLOSE_WAIT on host server')).toContain('It grew by 0 while the load ran (0.0 per second).');
  });

  it('process-close-wait: names the user\'s process, its command and pid, with the CLOSE_WAIT its own fds held', () => {
    const report = loadReportFixture('process-close-wait');
    const api = stats(report, 'api');
    const s = only(runRule(closeWaitFindings, report), 'CLOSE_WAIT on host server');
    expect(api['sockets'].peak.CLOSE_WAIT).toBe(host(report, 'server').final.CLOSE_WAIT);
    expect(s).toContain(`CLOSE_WAIT ${n(api['sockets'].peak.CLOSE_WAIT)} held by your process \`${api['command']}\` (pid ${api['pid']}), counted among its open files: it got each peer's FIN and never closed the socket.`);
    expect(s).not.toContain('closeStyle never');
  });

  it('names no process where a process held no CLOSE_WAIT', () => {
    const report = loadReportFixture('process-close-wait');
    stats(report, 'api')['sockets'].peak = { LISTEN: 1 };
    expect(only(runRule(closeWaitFindings, report), 'CLOSE_WAIT on host server')).not.toContain('held by your process');
  });
});
