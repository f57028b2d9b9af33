import { describe, expect, it } from 'vitest';
import { fdLimitFindings } from '../../../src/report/findings/fd-limit.ts';
import { portBudget } from '../../../src/core/port-budget.ts';
import { citing, claimValue, host, loadReportFixture, runFindings, stats } from '../fixture.ts';

const values = (f: ReturnType<typeof runFindings>[number] | undefined, name: string, of?: string) =>
  (f?.claims ?? []).filter((c) => c.name === name && (of === undefined || c.of === of)).map((c) => [c.value, c.peers]);

describe('fdLimitFindings', () => {
  it('fd-limit: accept() EMFILE on host server, with the limit read back and the accept queue', () => {
    const report = loadReportFixture('fd-limit');
    const web = stats(report, 'web');
    const e = web['errors']['EMFILE'];
    const server = host(report, 'server');
    const out = runFindings(fdLimitFindings, report);
    expect(out.map((f) => [f.host, f.peers])).toEqual([
      ['server', ['client']],
      ['lclient', ['server2']],
    ]);
    const [f] = citing(out, 'web');
    expect(values(f, 'errors', 'EMFILE')).toEqual([[e.count, ['client']]]);
    expect(values(f, 'syscallErrors', 'EMFILE accept')).toEqual([[e.syscalls.accept, ['client']]]);
    // The scenario's nofile=128, as the process read it back.
    expect(values(f, 'openFilesLimit').map(([v]) => v)).toEqual([128, 128]);
    expect(values(f, 'connectionsAtOnce')).toEqual([[web['maxOpen'], ['client']]]);
    expect(values(f, 'statePeak', 'ESTABLISHED')).toEqual([[server.peak.total.ESTABLISHED, []]]);
    expect(values(f, 'counter', 'TcpExt.ListenOverflows')).toEqual([
      [server.counters.delta['TcpExt.ListenOverflows'] ?? 0, []],
    ]);
    const client = host(report, 'client');
    const used = Object.values(client.peak.peers.ephemeral['198.18.0.2:8080']!).reduce((a, b) => a + (b ?? 0), 0);
    expect(values(f, 'peerStatePeak', 'every state')).toEqual([[used, ['client']]]);
    expect(values(f, 'portBudget')).toEqual([[portBudget(client.sysctls)!.budget, ['client']]]);
  });

  it('fd-limit: connect() EMFILE on host lclient, its limit from the plan (limits.nofile), no accept-queue claim', () => {
    const report = loadReportFixture('fd-limit');
    const e = stats(report, 'lflood')['errors']['EMFILE'];
    const out = runFindings(fdLimitFindings, report);
    expect(claimValue(out, 'lclient', 'syscallErrors', 'EMFILE connect')).toBe(e.syscalls.connect);
    expect(report.scenario.plan.hosts['lclient']!.limits!.nofile).toBe(96);
    expect(claimValue(out, 'lclient', 'planned', 'nofile')).toBe(96);
    expect(() => claimValue(out, 'lclient', 'counter', 'TcpExt.ListenOverflows')).toThrow();
    const lclient = host(report, 'lclient');
    const used = Object.values(lclient.peak.peers.ephemeral['198.18.0.4:8080']!).reduce((a, b) => a + (b ?? 0), 0);
    expect(claimValue(out, 'lclient', 'peerStatePeak', 'every state')).toBe(used);
  });

  it('says nothing without EMFILE or ENFILE', () => {
    for (const name of ['short-conn', 'listen-backlog', 'reset-and-broken-pipe'])
      expect(runFindings(fdLimitFindings, loadReportFixture(name))).toEqual([]);
  });

  it('reacts to the fixture: ENFILE, no EMFILE', () => {
    const enfile = loadReportFixture('fd-limit');
    const errors = stats(enfile, 'web')['errors'];
    errors['ENFILE'] = errors['EMFILE'];
    delete errors['EMFILE'];
    const out = runFindings(fdLimitFindings, enfile);
    expect(claimValue(out, 'server', 'errors', 'ENFILE')).toBe(errors['ENFILE'].count);
    expect(() => claimValue(out, 'server', 'errors', 'EMFILE')).toThrow();

    const none = loadReportFixture('fd-limit');
    stats(none, 'web')['errors'] = {};
    stats(none, 'lflood')['errors'] = {};
    expect(runFindings(fdLimitFindings, none)).toEqual([]);
  });
});
