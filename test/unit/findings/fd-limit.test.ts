import { describe, expect, it } from 'vitest';
import { fdLimitFindings } from '../../../src/report/findings/fd-limit.ts';
import { portBudget } from '../../../src/core/port-budget.ts';
import { host, loadReportFixture, n, only, runRule, stats } from '../fixture.ts';

describe('fdLimitFindings', () => {
  it('fd-limit: accept() EMFILE on host server, with the limit read back and the accept queue', () => {
    const report = loadReportFixture('fd-limit');
    const web = stats(report, 'web');
    const e = web['errors']['EMFILE'];
    const server = host(report, 'server');
    const out = runRule(fdLimitFindings, report);
    expect(out).toHaveLength(2);
    const s = only(out, '(actor web;');
    expect(s).toContain(`EMFILE ("Too many open files") ${n(e.count)} times on host server (actor web; accept() ${n(e.syscalls.accept)})`);
    // The scenario's nofile=128, as the process read it back.
    expect(web['limits'].nofile).toEqual({ soft: 128, hard: 128 });
    expect(s).toContain('the process reached RLIMIT_NOFILE 128 (soft) / 128 (hard), as the process read it back');
    expect(s).toContain(`It held at most ${n(web['maxOpen'])} connections at once.`);
    expect(s).toContain(`ESTABLISHED on host server peaked at ${n(server.peak.total.ESTABLISHED)}; TcpExt.ListenOverflows +${n(server.counters.delta['TcpExt.ListenOverflows'] ?? 0)}`);
    const client = host(report, 'client');
    const used = Object.values(client.peak.peers.ephemeral['198.18.0.2:8080']!).reduce((a, b) => a + (b ?? 0), 0);
    expect(s).toContain(`This is not port exhaustion: host client held at most ${n(used)} of its ${n(portBudget(client.sysctls)!.budget)} ports toward 198.18.0.2:8080 and got neither EADDRNOTAVAIL nor EADDRINUSE.`);
    expect(s).toContain('What would change it: a higher open-files limit');
  });

  it('fd-limit: connect() EMFILE on host lclient, its limit from the plan (limits.nofile), no accept-queue clause', () => {
    const report = loadReportFixture('fd-limit');
    const e = stats(report, 'lflood')['errors']['EMFILE'];
    const s = only(runRule(fdLimitFindings, report), '(actor lflood;');
    expect(s).toContain(`EMFILE ("Too many open files") ${n(e.count)} times on host lclient (actor lflood; connect() ${n(e.syscalls.connect)})`);
    expect(report.scenario.plan.hosts['lclient']!.limits!.nofile).toBe(96);
    expect(s).toContain('RLIMIT_NOFILE 96 (host limits.nofile)');
    expect(s).not.toContain('accept queue');
    const lclient = host(report, 'lclient');
    const used = Object.values(lclient.peak.peers.ephemeral['198.18.0.4:8080']!).reduce((a, b) => a + (b ?? 0), 0);
    expect(s).toContain(`host lclient held at most ${n(used)} of its ${n(portBudget(lclient.sysctls)!.budget)} ports toward 198.18.0.4:8080`);
  });

  it('says nothing without EMFILE or ENFILE', () => {
    for (const name of ['short-conn', 'listen-backlog', 'reset-and-broken-pipe']) expect(runRule(fdLimitFindings, loadReportFixture(name))).toEqual([]);
  });

  it('reacts to the fixture: port errors at the client, ENFILE, no EMFILE', () => {
    const ports = loadReportFixture('fd-limit');
    stats(ports, 'flood')['errors'] = { EADDRNOTAVAIL: { count: 1, syscalls: { connect: 1 }, firstAtMs: 0 } };
    expect(only(runRule(fdLimitFindings, ports), '(actor web;')).toContain('toward 198.18.0.2:8080 (and got EADDRNOTAVAIL).');

    const enfile = loadReportFixture('fd-limit');
    const errors = stats(enfile, 'web')['errors'];
    errors['ENFILE'] = errors['EMFILE'];
    delete errors['EMFILE'];
    const s = only(runRule(fdLimitFindings, enfile), '(actor web;');
    expect(s).toMatch(/^ENFILE \("Too many open files in system"\)/);
    expect(s).toContain('the machine-wide fs.file-max was reached');

    const none = loadReportFixture('fd-limit');
    stats(none, 'web')['errors'] = {};
    stats(none, 'lflood')['errors'] = {};
    expect(runRule(fdLimitFindings, none)).toEqual([]);
  });
});
