// keepalive-idle-race: the backend's 5 s idle timeout against nginx's 60 s pool. A POST that meets the backend's
// close is a 502; a GET is retried on a new connection; each of the three fixes compared on the same load. The
// race runs use the scenario's own rounds (their pacing is what makes the race certain); a cure needs no race to
// miss, so its runs are three rounds long. The runs go one after another. Every assertion is a count from an actor
// or a kernel.
import { beforeAll, expect, it } from 'vitest';
import { type TestReport, runShort } from '../helpers/lab.ts';
import { describeWithTools } from '../helpers/tools.ts';

const RACE_KINDS = /upstream prematurely closed connection|Connection reset by peer|Broken pipe/;
const raceLines = (r: TestReport) =>
  Object.entries(r.actors.proxy!['errorLog'].kinds as Record<string, number>)
    .filter(([kind]) => RACE_KINDS.test(kind))
    .reduce((a, [, k]) => a + k, 0);
const finding = (r: TestReport) => r.findings.filter((f) => /keep-alive (idle-timeout )?race between/i.test(f));

describeWithTools(['nginx'], 'keepalive-idle-race scenario', () => {
  const runs: Record<string, TestReport> = {};
  beforeAll(async () => {
    const variants: Record<string, Record<string, string>> = {
      post: {},
      get: { method: 'GET' },
      backendAbove: { fix: 'backend-idle-above-proxy', rounds: '3' },
      proxyBelow: { fix: 'proxy-idle-below-backend', rounds: '3' },
      retries: { fix: 'retry-non-idempotent' },
    };
    for (const [name, set] of Object.entries(variants))
      runs[name] = (await runShort('keepalive-idle-race', set)).report;
  }, 300_000);

  it('POST: the backend closed idle connections that nginx then wrote requests onto: 502s, one per logged line', () => {
    const r = runs.post!;
    expect(r.actors.web!['idleCloses']).toBeGreaterThan(0);
    const errors = r.actors.client!['errors'] as Record<string, { count: number }>;
    expect(errors.HTTP_502!.count).toBeGreaterThan(0);
    expect(Object.keys(errors)).toEqual(['HTTP_502']);
    // nginx passes no POST on once its request was sent: every request that met a close is a 502 at the client.
    expect(raceLines(r)).toBe(errors.HTTP_502!.count);
    expect(r.actors.proxy!['errorLog'].lines).toBe(errors.HTTP_502!.count);
    expect(r.actors.client!['statuses']['502']).toBe(errors.HTTP_502!.count);
    // The backend's kernel answered each request that reached a closed socket, or a close with it unread, with an
    // RST, and nginx's kernel counted each reset of an established connection.
    expect(r.hosts.backend!.counters.delta['Tcp.OutRsts']).toBeGreaterThanOrEqual(errors.HTTP_502!.count);
    expect(r.hosts.proxy!.counters.delta['Tcp.EstabResets']).toBeGreaterThanOrEqual(errors.HTTP_502!.count);
    // The closed model misses no start: every user's every round was sent.
    expect(r.actors.client!['attempts']).toBe(8 * 128);
    expect(r.actors.client!['missedStarts']).toBe(0);
    expect(r.hosts.backend!.counters.delta['TcpExt.TW']).toBeGreaterThan(0);
    expect(r.thresholds.filter((t) => !t.ok)).toEqual([]);
  });

  it("the finding names the mechanism: both timeouts, who closed, the resets, nginx's lines by kind, the 502s", () => {
    const r = runs.post!;
    const [text] = finding(r);
    expect(text).toContain(
      'Keep-alive idle-timeout race between proxy proxy (nginx) on host proxy and web (198.18.0.3:8080) on host backend: web closes a kept-alive connection after 5.00 s idle, nginx keeps one idle for 60.0 s',
    );
    expect(text).toContain(`idle closes by web: ${(r.actors.web!['idleCloses'] as number).toLocaleString('en-US')}`);
    expect(text).toContain(
      `Tcp.OutRsts +${r.hosts.backend!.counters.delta['Tcp.OutRsts']!.toLocaleString('en-US')} on host backend`,
    );
    expect(text).toMatch(/nginx's log by kind: "(upstream prematurely closed|recv\(\) failed \(104)/);
    expect(text).toContain(
      `Its clients got ${(r.actors.client!['statuses']['502'] as number).toLocaleString('en-US')} × 502 (client)`,
    );
    expect(text).toContain('What cures it');
    // Each number of the finding re-derives from report.json (the truth check runs on every report).
    const claims = r.claims!.filter((c) => c.rule === 'keepalive-race');
    expect(claims).toHaveLength(1);
    expect(claims[0]!.claims.map((c) => c.name)).toEqual(
      expect.arrayContaining(['idleCloses', 'firstCloses', 'resets', 'logLines', 'gatewayErrors']),
    );
  });

  it('GET: the same race, retried by nginx on a new connection: lines in its log, no error at the client', () => {
    const r = runs.get!;
    expect(raceLines(r)).toBeGreaterThan(0);
    expect(r.actors.client!['errorCount']).toBe(0);
    expect(r.actors.client!['statuses']).toEqual({ 200: 8 * 128 });
    expect(r.hosts.backend!.counters.delta['Tcp.OutRsts']).toBeGreaterThan(0);
    expect(finding(r)[0]).toContain('went again on a new connection, unseen by the clients');
    expect(r.thresholds.filter((t) => !t.ok)).toEqual([]);
  });

  it("backend idle timeout above the proxy's (65 s) and proxy's below the backend's (4 s) each cure it: no idle close by the backend, no line, no 502", () => {
    for (const r of [runs.backendAbove!, runs.proxyBelow!]) {
      expect(r.actors.web!['idleCloses']).toBe(0);
      expect(r.actors.proxy!['errorLog'].lines).toBe(0);
      expect(r.actors.client!['errorCount']).toBe(0);
      expect(r.hosts.backend!.counters.delta['Tcp.OutRsts']).toBe(0);
      expect(finding(r)[0]).toMatch(/^No keep-alive race between/);
      expect(r.thresholds.filter((t) => !t.ok)).toEqual([]);
    }
    // With 4 s nginx closes every idle upstream connection itself: its host closed first, the backend never.
    expect(runs.proxyBelow!.hosts.proxy!.counters.delta['TcpExt.TW']).toBeGreaterThan(0);
    expect(runs.proxyBelow!.hosts.backend!.counters.delta['TcpExt.TW']).toBe(0);
  });

  it("retrying non-idempotent requests hides the race: the backend's closes and nginx's lines go on, the client sees none", () => {
    const r = runs.retries!;
    expect(r.actors.web!['idleCloses']).toBeGreaterThan(0);
    expect(raceLines(r)).toBeGreaterThan(0);
    expect(r.hosts.backend!.counters.delta['Tcp.OutRsts']).toBeGreaterThan(0);
    expect(r.actors.client!['errorCount']).toBe(0);
    expect(r.actors.proxy!['config']).toMatch(/proxy_next_upstream error timeout non_idempotent;/);
    expect(finding(r)[0]).toContain('hides the race rather than curing it');
  });
});
