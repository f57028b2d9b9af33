// address-in-use-restart in a short form: four listeners close 20 connections each first, then restart on
// their port. Evidence: the port's sockets as /proc/net/tcp listed them at the restart, and the errno and
// syscall of every bind()/listen() try.
import { beforeAll, describe, expect, it } from 'vitest';
import { type TestReport, runShort } from '../helpers/lab.ts';

const TRIES = 3;
type Restart = { state: string; tries: number; portStates: Record<string, number> };

describe('address-in-use-restart scenario', () => {
  let report: TestReport;
  beforeAll(async () => {
    ({ report } = await runShort('address-in-use-restart', { connections: '20', tries: String(TRIES) }));
  });

  it('restarts while the port still holds the connections it closed first', () => {
    for (const name of ['off-off', 'off-on', 'on-off', 'on-on']) {
      const r = report.actors[name]!['restart'] as Restart;
      expect(r.portStates['TIME_WAIT']).toBeGreaterThan(0);
      expect(r.portStates['LISTEN']).toBeUndefined();
      expect(report.actors[`to-${name}`]!['ok']).toBe(20);
    }
  });

  it('fails bind() with EADDRINUSE on every try unless both sockets set SO_REUSEADDR', () => {
    for (const name of ['off-off', 'off-on', 'on-off']) {
      const a = report.actors[name]!;
      expect((a['restart'] as Restart).state).toBe('failed');
      expect(a['listens']).toBe(1);
      expect(a['errors']).toEqual({ EADDRINUSE: expect.objectContaining({ count: TRIES, syscalls: { bind: TRIES } }) });
    }
    const clean = report.actors['on-on']!;
    expect(clean['restart']).toMatchObject({ state: 'listening', tries: 1 });
    expect(clean['listens']).toBe(2);
    expect(clean['errors']).toEqual({});
  });

  it('explains each case and passes its thresholds', () => {
    const text = report.findings.join('\n');
    expect(text).toMatch(/Listener off-on .* EADDRINUSE .*3 of 3 tries.*they inherit the listening socket's setting/);
    expect(text).toMatch(/Listener on-on .* listened again at try 1/);
    expect(report.thresholds.filter((t) => !t.ok)).toEqual([]);
  });
});
