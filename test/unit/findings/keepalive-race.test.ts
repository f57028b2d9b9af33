import { describe, expect, it } from 'vitest';
import { keepaliveRaceFindings } from '../../../src/report/findings/keepalive-race.ts';
import { rederive } from '../../../src/report/claims/rederive.ts';
import type { Report } from '../../../src/report/report.ts';
import { host, loadReportFixture, n, stats } from '../fixture.ts';

const raceOf = (report: Report) => {
  const out = keepaliveRaceFindings({ plan: report.scenario.plan, report });
  expect(out).toHaveLength(1);
  return out[0]!;
};

describe('keepaliveRaceFindings', () => {
  it("keepalive-idle-race (POST): both timeouts, who closed, the resets, nginx's lines by kind and the 502s, each a claim the report re-derives", () => {
    const report = loadReportFixture('keepalive-idle-race');
    const f = raceOf(report);
    const web = stats(report, 'web');
    const log = stats(report, 'proxy')['errorLog'];
    const backend = host(report, 'backend').counters.delta;
    const status502 = stats(report, 'client')['statuses']['502'] as number;
    expect(f).toMatchObject({ rule: 'keepalive-race', host: 'proxy', peers: ['backend'] });
    expect(f.text).toContain(
      'web closes a kept-alive connection after 5.00 s idle, nginx keeps one idle for 60.0 s, so web, the shorter, closes idle connections nginx still counts as reusable',
    );
    expect(f.text).toContain(
      `(idle closes by web: ${n(web['idleCloses'])}; first closes counted by each kernel: host backend ${n(backend['TcpExt.TW']!)} (TcpExt.TW, TWKilled, TCPTimeWaitOverflow), host proxy 0)`,
    );
    expect(f.text).toContain(
      `${n(log.lines)} times nginx wrote a request onto a pooled connection in the instant web closed it`,
    );
    expect(f.text).toContain(
      `(Tcp.OutRsts +${n(backend['Tcp.OutRsts']!)} on host backend, Tcp.EstabResets +${n(host(report, 'proxy').counters.delta['Tcp.EstabResets']!)} on host proxy)`,
    );
    for (const [kind, count] of Object.entries(log.kinds as Record<string, number>))
      expect(f.text).toContain(`"${kind}" ${n(count)}`);
    expect(f.text).toContain(`Its clients got ${n(status502)} × 502 (client).`);
    expect(f.text).toContain('a POST, LOCK or PATCH whose request was written gets the error');
    expect(f.text).toContain('What cures it');
    expect(f.text).not.toContain('hides the race');
    expect(status502).toBeGreaterThan(0);
    for (const c of f.claims) expect(rederive({ plan: report.scenario.plan, report }, c)).toEqual({ value: c.value });
    expect(f.claims.find((c) => c.name === 'gatewayErrors')!.value).toBe(status502);
    expect(f.claims.find((c) => c.name === 'idleCloses')!.value).toBe(web['idleCloses']);
  });

  it('a changed count contradicts its claim: the evidence path is read, not the sentence', () => {
    const report = loadReportFixture('keepalive-idle-race');
    const f = raceOf(report);
    const lines = f.claims.find((c) => c.name === 'logLines' && c.plus.length === 1)!;
    const ref = lines.plus[0]!;
    if (ref.from !== 'actor-stat' || !ref.key) throw new Error("a log kind's claim reads an actor stat by key");
    (stats(report, 'proxy')['errorLog'].kinds as Record<string, number>)[ref.key[1]!]! += 1;
    expect(rederive({ plan: report.scenario.plan, report }, lines)).toEqual({ value: lines.value + 1 });
    delete (stats(report, 'proxy')['errorLog'] as Record<string, unknown>)['kinds'];
    // A count by name lists only what happened: a kind it lacks counted 0, which the claim's value then contradicts.
    expect(rederive({ plan: report.scenario.plan, report }, lines)).toEqual({ value: 0 });
  });

  it("backend idle timeout above the proxy's: no race, with the evidence that none happened", () => {
    const report = loadReportFixture('keepalive-idle-race--backend-idle-above-proxy');
    const f = raceOf(report);
    expect(f.text).toMatch(
      /^No keep-alive race between proxy proxy \(nginx\) on host proxy and web \(198\.18\.0\.3:8080\) on host backend: web closes a kept-alive connection after 65\.0 s idle, nginx keeps one idle for 60\.0 s, so nginx closes an idle connection before web would/,
    );
    expect(f.text).toContain('idle closes by web: 0;');
    expect(f.text).toContain('0 gateway or socket errors at the clients');
    expect(f.text).not.toContain('What cures it');
  });

  it('retries of non-idempotent requests: the race goes on, the clients see none, and the finding says it is hidden, not cured', () => {
    const report = loadReportFixture('keepalive-idle-race--retry-non-idempotent');
    const f = raceOf(report);
    const lines = stats(report, 'proxy')['errorLog'].lines as number;
    expect(lines).toBeGreaterThan(0);
    expect(stats(report, 'client')['errorCount']).toBe(0);
    expect(f.text).toContain(
      `Of failed requests, nginx sends every one again on another connection, POST included; ${n(lines)} of the ${n(lines)} went again on a new connection, unseen by the clients.`,
    );
    expect(f.text).toContain('hides the race rather than curing it');
    expect(f.text).toContain('What cures it');
  });

  it("keepalive-idle-race-client: an undici pool straight to the server, its socket errors on reused connections as the evidence, and the client's cures", () => {
    const report = loadReportFixture('keepalive-idle-race-client');
    const f = raceOf(report);
    const onReused = stats(report, 'client')['errorsOnReused'] as Record<string, { count: number }>;
    const server = host(report, 'server').counters.delta;
    expect(f).toMatchObject({ rule: 'keepalive-race', host: 'client', peers: ['server'] });
    expect(f.text).toContain(
      'Keep-alive idle-timeout race between the pool of client on host client and web (198.18.0.2:8080) on host server: web closes a kept-alive connection after 5.00 s idle, client keeps one idle for 60.0 s (web sends no `Keep-Alive: timeout=` header, so client cannot learn its timeout)',
    );
    expect(Object.keys(onReused).length).toBeGreaterThan(0);
    expect(f.text).toContain(
      `client got ${Object.entries(onReused)
        .map(([code, e]) => `${code} ${n(e.count)}`)
        .join(', ')} on reused connections.`,
    );
    expect(f.text).toContain(`Tcp.OutRsts +${n(server['Tcp.OutRsts']!)} on host server`);
    expect(f.text).toContain('Of failed requests, client sends none again.');
    // The client's cures, not nginx's.
    expect(f.text).toContain("lower the pool's below it (undici: keepAliveTimeout 4000 before a server's 5 s)");
    expect(f.text).not.toContain('upstream block');
    for (const c of f.claims) expect(rederive({ plan: report.scenario.plan, report }, c)).toEqual({ value: c.value });
    expect(f.claims.filter((c) => c.name === 'requests').reduce((a, c) => a + c.value, 0)).toBe(
      stats(report, 'client')['errorsOnReusedCount'],
    );
  });

  it('a run where the server closed idle connections but no request met a close says the gaps did reach the timeout', () => {
    const report = loadReportFixture('keepalive-idle-race-client');
    const client = stats(report, 'client');
    client['errorsOnReused'] = {};
    client['errorsOnReusedCount'] = 0;
    const idle = stats(report, 'web')['idleCloses'] as number;
    expect(idle).toBeGreaterThan(0);
    const f = raceOf(report);
    expect(f.text).toContain(
      `No request met a close in this run (no pool error line of that kind, 0 gateway or socket errors at the clients): web did close ${n(idle)} idle connections, and each close reached client before it wrote onto that connection again.`,
    );
    expect(f.text).not.toContain('left no idle gap');
  });

  it("keepalive-idle-race-client with the server's Keep-Alive header: undici closes 2 s before it, so no race, whatever its own 60 s", () => {
    const report = loadReportFixture('keepalive-idle-race-client--server-keep-alive-header');
    const f = raceOf(report);
    expect(f.text).toMatch(
      /^No keep-alive race between the pool of client on host client and web \(198\.18\.0\.2:8080\) on host server: web closes a kept-alive connection after 5\.00 s idle, client keeps one idle for 3\.00 s \(web's `Keep-Alive: timeout=5\.00 s` header less client's 2\.00 s margin\)/,
    );
    expect(f.text).toContain('idle closes by web: 0;');
    // Without the plan's hint (a report of an older waitlab) the pool's own 60 s stands: a mismatch, not a cure.
    const accepts = report.scenario.plan.actors['web']!.connections!.accepts as { idleHintMs?: number };
    delete accepts.idleHintMs;
    expect(raceOf(report).text).toMatch(/^Keep-alive idle-timeout race between/);
  });

  it('says nothing where the plan models no idle timeouts and nothing raced (older reports, other scenarios)', () => {
    for (const name of ['proxy-keepalive-upstream', 'keepalive-vs-close', 'haproxy-keepalive-upstream']) {
      const report = loadReportFixture(name);
      expect(keepaliveRaceFindings({ plan: report.scenario.plan, report })).toEqual([]);
    }
  });
  it("keepalive-idle-race-haproxy: HAProxy's SH terminations are the race, each a claim, beside the backend's resets, and its cure names pool-purge-delay", () => {
    const report = loadReportFixture('keepalive-idle-race-haproxy');
    const f = raceOf(report);
    const terminations = stats(report, 'proxy')['terminations'] as Record<string, number>;
    const status502 = stats(report, 'client')['statuses']['502'] as number;
    const backend = host(report, 'backend').counters.delta;
    expect(status502).toBeGreaterThan(0);
    expect(terminations['SH/502']).toBe(status502);
    expect(f).toMatchObject({ rule: 'keepalive-race', host: 'proxy', peers: ['backend'] });
    expect(f.text).toContain(
      `${n(status502)} times HAProxy wrote a request onto a pooled connection in the instant web closed it`,
    );
    expect(f.text).toContain(`HAProxy's log by termination state: SH/502 ${n(status502)}`);
    expect(f.text).toContain(`Tcp.OutRsts +${n(backend['Tcp.OutRsts']!)} on host backend`);
    expect(f.text).toContain(`Its clients got ${n(status502)} × 502 (client).`);
    expect(f.text).toContain('a short `pool-purge-delay` on the server line');
    expect(f.text).not.toContain('keepalive_timeout 4s');
    for (const c of f.claims) expect(rederive({ plan: report.scenario.plan, report }, c)).toEqual({ value: c.value });
    const lines = f.claims.find((c) => c.name === 'logLines')!;
    expect(lines.value).toBe(status502);
    // The claim reads the termination count, not the sentence: one more SH line contradicts it.
    terminations['SH/502']! += 1;
    expect(rederive({ plan: report.scenario.plan, report }, lines)).toEqual({ value: status502 + 1 });
  });
});
