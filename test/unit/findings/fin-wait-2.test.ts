import { describe, expect, it } from 'vitest';
import { finWait2Findings } from '../../../src/report/findings/fin-wait-2.ts';
import type { Report } from '../../../src/report/report.ts';
import { dur, host, loadReportFixture, n, only, runRule, stats } from '../fixture.ts';

function loadWindow(report: Report) {
  const load = Object.values(report.scenario.plan.actors).filter((a) => a.role === 'load').map((a) => stats(report, a.name));
  const startMs = Math.min(...load.map((s) => Number(s['startedAtMs'])));
  const endMs = Math.max(...load.map((s) => Number(s['startedAtMs']) + Number(s['durationMs'])));
  return { startMs, endMs };
}

describe('finWait2Findings', () => {
  it('close-wait-leak: the client\'s orphaned FIN_WAIT_2 all ended after tcp_fin_timeout, as Little\'s law predicts', () => {
    const report = loadReportFixture('close-wait-leak');
    const client = host(report, 'client');
    const w = loadWindow(report);
    const out = runRule(finWait2Findings, report);
    expect(out).toHaveLength(1);
    const s = only(out, 'FIN_WAIT_2 on host client');
    // The scenario's finTimeout=2.
    expect(client.sysctls['net.ipv4.tcp_fin_timeout']).toBe('2');
    expect(s).toContain(`FIN_WAIT_2 on host client: peak ${n(client.peak.total.FIN_WAIT2)} at ${dur(client.peak.atMs.FIN_WAIT2!)}, ${n(client.final.FIN_WAIT2)} at the last sample; its tcp_fin_timeout is 2 s.`);
    const since = client.series.t.at(-1)! - w.endMs;
    expect(since).toBeGreaterThan(2000);
    expect(client.final.FIN_WAIT2).toBe(0);
    expect(s).toContain(`All ended within the ${dur(since)} sampled after the load: the sockets were orphans`);
    const killed = client.counters.delta['TcpExt.TWKilled']!;
    const entries = killed + client.counters.delta['TcpExt.TW']!;
    const perSecond = entries / ((w.endMs - w.startMs) / 1000);
    expect(s).toContain(`At ${perSecond.toFixed(1)} orphans per second (timewait entries / load time) living tcp_fin_timeout each, about ${n(Math.round(perSecond * 2))} should be there at once: the peak was ${n(client.peak.total.FIN_WAIT2)}.`);
    expect(s).toContain(`TcpExt.TWKilled +${n(killed)}: the kernel counts a timewait entry there, not in TcpExt.TW, when its timer is 4 s or less.`);
    expect(s).toContain('a shorter tcp_fin_timeout on this host frees these orphans sooner.');
  });

  it('fin-wait-2: orphans on host server (timewait minisockets in sockstat tw), fd still open on host shutserver', () => {
    const report = loadReportFixture('fin-wait-2');
    const out = runRule(finWait2Findings, report);
    expect(out).toHaveLength(2);
    const server = host(report, 'server');
    const a = only(out, 'FIN_WAIT_2 on host server:');
    expect(server.peak.total.TIME_WAIT).toBe(0);
    expect(a).toContain(`The kernel's sockstat tw peaked at ${n(server.peak.sockstatTw)} with no TIME_WAIT: an orphaned FIN_WAIT_2 is kept as a timewait minisocket.`);
    expect(a).toContain('the sockets were orphans');

    const shut = host(report, 'shutserver');
    const b = only(out, 'FIN_WAIT_2 on host shutserver:');
    expect(shut.final.FIN_WAIT2).toBeGreaterThan(0);
    const since = shut.series.t.at(-1)! - loadWindow(report).endMs;
    expect(b).toContain(`${n(shut.final.FIN_WAIT2)} outlived tcp_fin_timeout by the end (${dur(since)} after the load): their fd was still open`);
    expect(b).not.toContain('orphans per second');
    expect(b).toContain("or close(2) here instead of a shutdown that keeps the fd");
  });

  it('says nothing about FIN_WAIT_2 caught in passing, or none', () => {
    for (const name of ['short-conn', 'server-close', 'rst-close']) {
      const report = loadReportFixture(name);
      for (const h of Object.values(report.hosts)) expect(h.peak.total.FIN_WAIT2 < 10 && h.final.FIN_WAIT2 === 0).toBe(true);
      expect(runRule(finWait2Findings, report)).toEqual([]);
    }
  });

  it('reacts to the fixture: sampling that ends before tcp_fin_timeout, a longer tcp_fin_timeout, TcpExt.TW without sockstat tw', () => {
    const short = loadReportFixture('close-wait-leak');
    const client = host(short, 'client');
    const end = loadWindow(short).endMs;
    const keep = client.series.t.findIndex((t) => t > end + 1000);
    client.series.t = client.series.t.slice(0, keep);
    const s = only(runRule(finWait2Findings, short), 'FIN_WAIT_2 on host client');
    expect(s).not.toContain('All ended within');
    expect(s).toContain('orphans per second');

    const long = loadReportFixture('close-wait-leak');
    host(long, 'client').sysctls['net.ipv4.tcp_fin_timeout'] = '60';
    const l = only(runRule(finWait2Findings, long), 'FIN_WAIT_2 on host client');
    expect(l).toContain('its tcp_fin_timeout is 60 s.');
    expect(l).not.toContain('All ended within');
    expect(l).not.toContain('orphans per second');

    const late = loadReportFixture('close-wait-leak');
    const h = host(late, 'client');
    h.counters.delta['TcpExt.TW'] = 5;
    h.peak.sockstatTw = 0;
    expect(only(runRule(finWait2Findings, late), 'FIN_WAIT_2 on host client')).toContain('TcpExt.TW +5 although sockstat tw stayed 0 in every sample');
  });
});
