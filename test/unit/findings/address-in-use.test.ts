import { describe, expect, it } from 'vitest';
import { addressInUseFindings } from '../../../src/report/findings/address-in-use.ts';
import { loadReportFixture, n, only, runRule, stats } from '../fixture.ts';

const held = (portStates: Record<string, number>) => Object.entries(portStates).map(([state, k]) => `${state} ${n(k)}`).join(', ');

describe('addressInUseFindings', () => {
  it('address-in-use-restart: three restarts fail with EADDRINUSE from bind(), the one with SO_REUSEADDR on both listens again', () => {
    const report = loadReportFixture('address-in-use-restart');
    const out = runRule(addressInUseFindings, report);
    expect(out).toHaveLength(4);
    const cases = [
      ['off-off', 8080, 'off', 'off'],
      ['off-on', 8081, 'off', 'on'],
      ['on-off', 8082, 'on', 'off'],
      ['on-on', 8083, 'on', 'on'],
    ] as const;
    for (const [name, port, oldR, newR] of cases) {
      const st = stats(report, name);
      const s = only(out, `Listener ${name} `);
      expect(s).toContain(`Listener ${name} on host server (port ${port}) was restarted with SO_REUSEADDR ${oldR} on the old listening socket and ${newR} on the new one, while the port held ${held(st['restart'].portStates)} (as /proc/net/tcp listed it at the restart).`);
      expect(st['restart'].portStates['TIME_WAIT']).toBeGreaterThan(0);
      if (name === 'on-on') {
        expect(st['restart'].state).toBe('listening');
        expect(s).toContain(`It listened again at try ${n(st['restart'].tries)}: with SO_REUSEADDR on both, bind() disregards sockets on the port that are not listening.`);
        expect(s).not.toContain('EADDRINUSE');
      } else {
        const e = st['errors']['EADDRINUSE'];
        // The scenario's tries=5.
        expect(s).toContain(`bind() failed with EADDRINUSE ("Address already in use") ${n(e.count)} of 5 tries, and the port stays blocked until those sockets leave TIME_WAIT (60 s).`);
        expect(s).toContain('What would change it: set SO_REUSEADDR before bind()');
      }
    }
    expect(only(out, 'Listener off-on ')).toContain("The new socket set SO_REUSEADDR, but the old connections did not: they inherit the listening socket's setting into TIME_WAIT");
    expect(only(out, 'Listener on-off ')).toContain('The old socket had SO_REUSEADDR, but the new one did not ask for it.');
    expect(only(out, 'Listener off-off ')).not.toMatch(/The (old|new) socket/);
  });

  it('says nothing about listeners never asked to restart (listen-backlog, fd-limit) or without listeners', () => {
    const lb = loadReportFixture('listen-backlog');
    expect(stats(lb, 'web')['restart'].state).toBe('not-asked');
    expect(runRule(addressInUseFindings, lb)).toEqual([]);
    expect(runRule(addressInUseFindings, loadReportFixture('fd-limit'))).toEqual([]);
    expect(runRule(addressInUseFindings, loadReportFixture('short-conn'))).toEqual([]);
  });

  it('reacts to the fixture: a restart still waiting, a failure without EADDRINUSE', () => {
    const waiting = loadReportFixture('address-in-use-restart');
    stats(waiting, 'off-off')['restart'].state = 'waiting';
    const out = runRule(addressInUseFindings, waiting);
    expect(out).toHaveLength(3);
    expect(out.some((s) => s.startsWith('Listener off-off '))).toBe(false);

    const other = loadReportFixture('address-in-use-restart');
    const st = stats(other, 'on-off');
    st['errors'] = { EACCES: { count: 5, syscalls: { bind: 5 }, firstAtMs: 0 } };
    const s = only(runRule(addressInUseFindings, other), 'Listener on-off ');
    expect(s).toContain(`The restart ended "${st['restart'].state}" after ${n(st['restart'].tries)} tries without EADDRINUSE: EACCES.`);
  });
});
