import { describe, expect, it } from 'vitest';
import { addressInUseFindings } from '../../../src/report/findings/address-in-use.ts';
import { citing, claimed, loadReportFixture, runFindings, stats } from '../fixture.ts';

/** The claims of the finding about one listener, by name (and of). */
function of(report: ReturnType<typeof loadReportFixture>, listener: string) {
  const [f] = citing(runFindings(addressInUseFindings, report), listener);
  if (!f) throw new Error(`no finding cites listener ${listener}`);
  return (name: string, what?: string) =>
    f.claims.filter((c) => c.name === name && (what === undefined || c.of === what)).map((c) => c.value);
}

describe('addressInUseFindings', () => {
  it('address-in-use-restart: three restarts fail with EADDRINUSE from bind(), the one with SO_REUSEADDR on both listens again', () => {
    const report = loadReportFixture('address-in-use-restart');
    const out = runFindings(addressInUseFindings, report);
    expect(out.map((f) => [f.rule, f.host, f.peers])).toEqual(Array(4).fill(['address-in-use', 'server', []]));
    for (const name of ['off-off', 'off-on', 'on-off', 'on-on']) {
      const st = stats(report, name);
      const claims = of(report, name);
      for (const [state, k] of Object.entries(st['restart'].portStates as Record<string, number>))
        expect(claims('socketsAtRestart', state)).toEqual([k]);
      expect(st['restart'].portStates['TIME_WAIT']).toBeGreaterThan(0);
      expect(claims('restartTries')).toEqual([st['restart'].tries]);
      if (name === 'on-on') {
        expect(st['restart'].state).toBe('listening');
        expect(claims('errors', 'EADDRINUSE')).toEqual([]);
      } else {
        // The scenario's tries=5, each failing in bind().
        expect(claims('restartTries')).toEqual([5]);
        expect(claims('errors', 'EADDRINUSE')).toEqual([st['errors']['EADDRINUSE'].count]);
        expect(claims('syscallErrors', 'EADDRINUSE bind')).toEqual([st['errors']['EADDRINUSE'].count]);
      }
    }
  });

  it('says nothing about listeners never asked to restart (listen-backlog, fd-limit) or without listeners', () => {
    const lb = loadReportFixture('listen-backlog');
    expect(stats(lb, 'web')['restart'].state).toBe('not-asked');
    expect(runFindings(addressInUseFindings, lb)).toEqual([]);
    expect(runFindings(addressInUseFindings, loadReportFixture('fd-limit'))).toEqual([]);
    expect(runFindings(addressInUseFindings, loadReportFixture('short-conn'))).toEqual([]);
  });

  it('reacts to the fixture: a restart still waiting, a failure without EADDRINUSE', () => {
    const waiting = loadReportFixture('address-in-use-restart');
    stats(waiting, 'off-off')['restart'].state = 'waiting';
    expect(runFindings(addressInUseFindings, waiting)).toHaveLength(3);

    const other = loadReportFixture('address-in-use-restart');
    stats(other, 'on-off')['errors'] = { EACCES: { count: 5, syscalls: { bind: 5 }, firstAtMs: 0 } };
    const claims = of(other, 'on-off');
    expect(claims('errors', 'EADDRINUSE')).toEqual([]);
    expect(claims('restartTries')).toEqual([5]);
    expect(claimed(runFindings(addressInUseFindings, other), 'errors', 'EADDRINUSE')).toHaveLength(2);
  });
});
