// keepalive-idle-race-haproxy: HAProxy 2.6's server pool (http-reuse always) before a backend closing idle
// connections after 5 s. A request HAProxy writes onto a connection as the backend closes it is answered by the
// backend's kernel with an RST; HAProxy logs SH and answers 502. Each of the three fixes compared on the same load;
// a cure needs no race to miss, so its runs are three rounds long. Every assertion is a count from an actor's log
// or a kernel. The race is likely, not certain (6 runs of the scenario's load: see README), hence the slow group.
import { beforeAll, describe, expect, it } from 'vitest';
import { type TestReport, runShort } from '../helpers/lab.ts';

const finding = (r: TestReport) => r.findings.filter((f) => /keep-alive (idle-timeout )?race between/i.test(f));
const terminations = (r: TestReport) => (r.actors.proxy!['terminations'] ?? {}) as Record<string, number>;
const closedBeforeHeaders = (r: TestReport) =>
  Object.entries(terminations(r))
    .filter(([k]) => k.startsWith('SH/'))
    .reduce((a, [, v]) => a + v, 0);

describe('keepalive-idle-race-haproxy scenario', () => {
  const runs: Record<string, TestReport> = {};
  beforeAll(async () => {
    const variants: Record<string, Record<string, string>> = {
      race: {},
      purge: { fix: 'proxy-idle-below-backend', rounds: '3' },
      backendAbove: { fix: 'backend-idle-above-proxy', rounds: '3' },
      retries: { fix: 'retry-on-empty-response' },
    };
    for (const [name, set] of Object.entries(variants))
      runs[name] = (await runShort('keepalive-idle-race-haproxy', set)).report;
  }, 360_000);

  it('the backend closed idle connections HAProxy then wrote requests onto: each one an RST, an SH line and a 502', () => {
    const r = runs.race!;
    const bad = (r.actors.client!['statuses'] as Record<string, number>)['502'] ?? 0;
    expect(r.actors.web!['idleCloses']).toBeGreaterThan(0);
    expect(bad).toBeGreaterThan(0);
    expect(terminations(r)['SH/502']).toBe(bad);
    // The backend's kernel answered each request it never read with an RST, and HAProxy's kernel counted each.
    expect(r.hosts.backend!.counters.delta['Tcp.OutRsts']).toBeGreaterThanOrEqual(bad);
    expect(r.hosts.proxy!.counters.delta['Tcp.EstabResets']).toBeGreaterThanOrEqual(bad);
    // The backend closed first: its host holds the TIME_WAIT, HAProxy's none.
    expect(r.hosts.backend!.counters.delta['TcpExt.TW']).toBeGreaterThan(0);
    expect(r.hosts.proxy!.counters.delta['TcpExt.TW']).toBe(0);
    expect(r.actors.client!['attempts']).toBe(8 * 128);
    expect(r.thresholds.filter((t) => !t.ok)).toEqual([]);
  });

  it("the finding counts HAProxy's SH lines as the race and names its own knob", () => {
    const r = runs.race!;
    const [text] = finding(r);
    expect(text).toContain(
      `${closedBeforeHeaders(r).toLocaleString('en-US')} times HAProxy wrote a request onto a pooled connection in the instant web closed it`,
    );
    expect(text).toContain(`SH/502 ${terminations(r)['SH/502']!.toLocaleString('en-US')}`);
    expect(text).toContain('`pool-purge-delay`');
  });

  it("a short pool-purge-delay, or the backend's idle timeout above the load's gaps, each cure it", () => {
    for (const r of [runs.purge!, runs.backendAbove!]) {
      expect(r.actors.client!['errorCount']).toBe(0);
      expect(closedBeforeHeaders(r)).toBe(0);
      expect(r.thresholds.filter((t) => !t.ok)).toEqual([]);
    }
    expect(runs.backendAbove!.actors.web!['idleCloses']).toBe(0);
  });

  it("retry-on empty-response hides the race: the backend's closes and resets go on, the client sees fewer errors than resets", () => {
    const r = runs.retries!;
    const errors = r.actors.client!['errorCount'] as number;
    expect(r.actors.web!['idleCloses']).toBeGreaterThan(0);
    // A retry can take another connection the backend is closing: after 3 tries HAProxy answers 502 (SH) after all.
    expect(closedBeforeHeaders(r)).toBe(errors);
    expect(r.hosts.backend!.counters.delta['Tcp.OutRsts']).toBeGreaterThan(errors);
    expect(r.thresholds.filter((t) => !t.ok)).toEqual([]);
  });
});
