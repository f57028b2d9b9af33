// keepalive-idle-race-client: an undici pool kept 60 s straight to a server closing idle connections after 5 s and
// sending no Keep-Alive header. Requests written onto a reused connection as the server closes it fail at the client
// (UND_ERR_SOCKET "other side closed", ECONNRESET), counted apart as errors on reused connections; each of the three
// fixes compared on the same load. The race runs use the scenario's own rounds; a cure needs no race to miss, so
// its runs are three rounds long. Every assertion is a count from an actor or a kernel.
import { beforeAll, describe, expect, it } from 'vitest';
import { type TestReport, runShort } from '../helpers/lab.ts';

const RACE_CODES = ['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE'];
const counts = (r: TestReport, stat: 'errors' | 'errorsOnReused') =>
  Object.fromEntries(
    Object.entries(r.actors.client![stat] as Record<string, { count: number }>).map(([code, e]) => [code, e.count]),
  );
const total = (byCode: Record<string, number>) => Object.values(byCode).reduce((a, b) => a + b, 0);
const finding = (r: TestReport) => r.findings.filter((f) => /keep-alive (idle-timeout )?race between/i.test(f));

describe('keepalive-idle-race-client scenario', () => {
  const runs: Record<string, TestReport> = {};
  beforeAll(async () => {
    const variants: Record<string, Record<string, string>> = {
      race: {},
      clientBelow: { fix: 'client-idle-below-server', rounds: '3' },
      header: { fix: 'server-keep-alive-header', rounds: '3' },
      retries: { fix: 'client-retries' },
    };
    for (const [name, set] of Object.entries(variants))
      runs[name] = (await runShort('keepalive-idle-race-client', set)).report;
  }, 240_000);

  it('the server closed idle connections the pool then wrote requests onto: socket errors, every one on a reused connection', () => {
    const r = runs.race!;
    const errors = counts(r, 'errors');
    expect(r.actors.web!['idleCloses']).toBeGreaterThan(0);
    expect(total(errors)).toBeGreaterThan(0);
    for (const code of Object.keys(errors)) expect(RACE_CODES).toContain(code);
    // Counted apart: every failed request had been written on a connection that carried one before.
    expect(counts(r, 'errorsOnReused')).toEqual(errors);
    expect(r.actors.client!['errorsOnReusedCount']).toBe(total(errors));
    expect(r.actors.client!['requestsOnReused']).toBeGreaterThanOrEqual(total(errors));
    // The server's kernel answered each request that met a closed socket, or a close with it unread, with an RST,
    // and the client's kernel counted each reset of an established connection.
    expect(r.hosts.server!.counters.delta['Tcp.OutRsts']).toBeGreaterThanOrEqual(total(errors));
    expect(r.hosts.client!.counters.delta['Tcp.EstabResets']).toBeGreaterThanOrEqual(total(errors));
    // The server closed first: its host holds the TIME_WAIT, the client's none.
    expect(r.hosts.server!.counters.delta['TcpExt.TW']).toBeGreaterThan(0);
    expect(r.hosts.client!.counters.delta['TcpExt.TW']).toBe(0);
    expect(r.actors.client!['attempts']).toBe(4 * 128);
    expect(r.actors.client!['missedStarts']).toBe(0);
    expect(r.thresholds.filter((t) => !t.ok)).toEqual([]);
  });

  it('the finding names the mechanism: both timeouts, the missing header, who closed, the resets, the errors on reused connections', () => {
    const r = runs.race!;
    const [text] = finding(r);
    expect(text).toContain(
      'Keep-alive idle-timeout race between the pool of client on host client and web (198.18.0.2:8080) on host server: web closes a kept-alive connection after 5.00 s idle, client keeps one idle for 60.0 s (web sends no `Keep-Alive: timeout=` header, so client cannot learn its timeout)',
    );
    expect(text).toContain(`idle closes by web: ${(r.actors.web!['idleCloses'] as number).toLocaleString('en-US')}`);
    expect(text).toContain(
      `Tcp.OutRsts +${r.hosts.server!.counters.delta['Tcp.OutRsts']!.toLocaleString('en-US')} on host server`,
    );
    for (const [code, count] of Object.entries(counts(r, 'errorsOnReused')))
      expect(text).toContain(`${code} ${count.toLocaleString('en-US')}`);
    expect(text).toContain('on reused connections');
    expect(text).toContain('undici honours by closing an idle connection 2 s before N');
    const claims = r.claims!.filter((c) => c.rule === 'keepalive-race');
    expect(claims).toHaveLength(1);
    expect(claims[0]!.claims.map((c) => c.name)).toEqual(
      expect.arrayContaining(['idleCloses', 'firstCloses', 'resets', 'requests']),
    );
  });

  it("the pool's idle timeout below the server's (4 s), and the server's Keep-Alive header, each cure it: the client closes every idle connection itself", () => {
    for (const r of [runs.clientBelow!, runs.header!]) {
      expect(r.actors.web!['idleCloses']).toBe(0);
      expect(r.actors.client!['errorCount']).toBe(0);
      expect(r.actors.client!['errorsOnReusedCount']).toBe(0);
      expect(r.hosts.server!.counters.delta['Tcp.OutRsts']).toBe(0);
      expect(r.hosts.server!.counters.delta['TcpExt.TW']).toBe(0);
      expect(r.hosts.client!.counters.delta['TcpExt.TW']).toBeGreaterThan(0);
      expect(finding(r)[0]).toMatch(/^No keep-alive race between/);
      expect(r.thresholds.filter((t) => !t.ok)).toEqual([]);
    }
    // undici honoured `Keep-Alive: timeout=5` by closing 2 s before it, whatever its own 60 s said.
    expect(finding(runs.header!)[0]).toContain(
      "client keeps one idle for 3.00 s (web's `Keep-Alive: timeout=5.00 s` header less client's 2.00 s margin)",
    );
  });

  it("retries hide the race: the server's closes and the failed tries on reused connections go on, the client sees no error", () => {
    const r = runs.retries!;
    expect(r.actors.web!['idleCloses']).toBeGreaterThan(0);
    expect(r.actors.client!['errorsOnReusedCount']).toBeGreaterThan(0);
    expect(r.hosts.server!.counters.delta['Tcp.OutRsts']).toBeGreaterThan(0);
    expect(r.actors.client!['errorCount']).toBe(0);
    expect(r.actors.client!['statuses']).toEqual({ 200: 4 * 128 });
    expect(finding(r)[0]).toContain('hides the race rather than curing it');
    expect(r.thresholds.filter((t) => !t.ok)).toEqual([]);
  });
});
