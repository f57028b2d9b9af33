// bind-before-connect in a short form: a 200-port budget, two server ports, two floods per client host.
// Every assertion reads the kernel's evidence (TIME_WAIT census, counters) and the errno the floods got.
import { beforeAll, describe, expect, it } from 'vitest';
import { type TestReport, runShort } from '../helpers/lab.ts';

const BUDGET = 200;
// A census of /proc/net/tcp is read in chunks while sockets move between tables: a peak can count a few
// sockets twice (seen once at 207 for 200), so census peaks get 3%; connection counts and counters are exact.
const expectAbout = (value: number, want: number) => {
  expect(value).toBeGreaterThanOrEqual(want);
  expect(value).toBeLessThanOrEqual(Math.ceil(want * 1.03));
};
type Errors = Record<string, { count: number; syscalls: Record<string, number> }>;

describe('bind-before-connect scenario', () => {
  let report: TestReport;
  const connected = (...names: string[]) => names.reduce((sum, a) => sum + Number(report.actors[a]!['connected']), 0);
  const errors = (name: string) => report.actors[name]!['errors'] as Errors;

  beforeAll(async () => {
    ({ report } = await runShort('bind-before-connect', { ports: '40000-40199', rate: '200/s', duration: '2s' }));
  });

  it('binding before connect() stops at one port budget for both destinations, with EADDRINUSE', () => {
    expect(connected('bound-a', 'bound-b')).toBe(BUDGET);
    expectAbout(report.hosts.bound!.peak.ephemeral.TIME_WAIT, BUDGET);
    expect(report.hosts.bound!.counters.delta['Tcp.ActiveOpens']).toBe(BUDGET);
    for (const name of ['bound-a', 'bound-b']) {
      const e = errors(name);
      expect(Object.keys(e)).toEqual(['EADDRINUSE']);
      // libuv defers bind()'s EADDRINUSE and returns it from connect().
      expect(e.EADDRINUSE!.syscalls).toEqual({ connect: e.EADDRINUSE!.count });
    }
  });

  it('plain connect() shares source ports across destinations: twice the budget, then EADDRNOTAVAIL per destination', () => {
    expect(connected('plain-a', 'plain-b')).toBe(2 * BUDGET);
    expect(connected('plain-a')).toBe(BUDGET);
    expect(report.hosts.plain!.counters.delta['Tcp.ActiveOpens']).toBe(2 * BUDGET);
    expectAbout(report.hosts.plain!.peak.ephemeral.TIME_WAIT, 2 * BUDGET);
    expectAbout(report.hosts.plain!.peak.peers.ephemeral['198.18.0.3:8080']!.TIME_WAIT!, BUDGET);
    expectAbout(report.hosts.plain!.peak.peers.ephemeral['198.18.0.3:8081']!.TIME_WAIT!, BUDGET);
    for (const name of ['plain-a', 'plain-b']) {
      expect(Object.keys(errors(name))).toEqual(['EADDRNOTAVAIL']);
      expect(errors(name).EADDRNOTAVAIL!.syscalls).toEqual({ connect: errors(name).EADDRNOTAVAIL!.count });
    }
  });

  it('says so in its findings and passes its thresholds', () => {
    const text = report.findings.join('\n');
    expect(text).toMatch(/Host bound opened 200 connections toward 2 destinations .* = 1 x its 200-port budget/);
    expect(text).toMatch(/EADDRINUSE \("Address already in use"\) \d+ times, reported by connect\(\)/);
    expect(text).toMatch(/Host plain opened 400 connections toward 2 destinations .* = 2 x its 200-port budget/);
    expect(report.thresholds.filter((t) => !t.ok)).toEqual([]);
    expect(report.verdict).toBe('pass');
  });
});
