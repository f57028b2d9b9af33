// examples/your-own-server: the README's own server file (plain node:http, Node's 5 s keepAliveTimeout) run by the
// process actor behind an nginx pool kept 60 s. POST bursts meet its idle closes (502s, in the client's errors by
// status); KEEP_ALIVE_TIMEOUT_MS 65 s cures it. Counts from the actors and the kernels, no times.
import { beforeAll, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../../src/core/paths.ts';
import { type TestReport, runShort } from '../helpers/lab.ts';
import { describeWithTools } from '../helpers/tools.ts';

const SCENARIO = resolve(PACKAGE_ROOT, 'examples/your-own-server/scenario.ts');

describeWithTools(['nginx'], 'examples/your-own-server: your node server behind nginx', () => {
  let race: TestReport;
  let cured: TestReport;
  let raceDir: string;
  let curedDir: string;
  beforeAll(async () => {
    ({ report: race, dir: raceDir } = await runShort(SCENARIO));
    // A cure has no race to miss: three rounds show it.
    ({ report: cured, dir: curedDir } = await runShort(SCENARIO, { backendIdleTimeout: '65s', rounds: '3' }));
  }, 180_000);

  it("Node's 5 s default behind nginx's 60 s pool: 502s on POST bursts, in the client's errors by status and nginx's log", () => {
    const errors = race.actors.client!['errors'] as Record<string, { count: number }>;
    expect(errors.HTTP_502!.count).toBeGreaterThan(0);
    expect(race.actors.client!['statuses']['502']).toBe(errors.HTTP_502!.count);
    expect(Object.keys(errors)).toEqual(['HTTP_502']);
    expect(race.actors.proxy!['errorLog'].lines).toBe(errors.HTTP_502!.count);
    const causes = race.actors.proxy!['errorLog'].causes as { upstreamClosedEarly: number; upstreamReset: number };
    expect(causes.upstreamClosedEarly + causes.upstreamReset).toBe(errors.HTTP_502!.count);
    // The server's kernel reset each connection a request reached after Node's idle close.
    expect(race.hosts.backend!.counters.delta['Tcp.OutRsts']).toBeGreaterThanOrEqual(errors.HTTP_502!.count);
    expect(race.actors.client!['missedStarts']).toBe(0);
    expect(
      race.findings.some(
        (f) =>
          f.startsWith('Keep-alive idle-timeout race between proxy proxy (nginx) on host proxy and web') &&
          f.includes('web closes a kept-alive connection after a time waitlab does not know (its own configuration)'),
      ),
    ).toBe(true);
    expect(race.thresholds.filter((t) => !t.ok)).toEqual([]);
  });

  it("KEEP_ALIVE_TIMEOUT_MS=65000: no 502, no line in nginx's log, no idle close by the server", () => {
    expect(cured.actors.client!['errorCount']).toBe(0);
    expect(cured.actors.client!['statuses']).toEqual({ 200: 3 * 128 });
    expect(cured.actors.proxy!['errorLog'].lines).toBe(0);
    expect(cured.hosts.backend!.counters.delta['TcpExt.TW']).toBe(0);
    expect(cured.hosts.backend!.counters.delta['Tcp.OutRsts']).toBe(0);
    expect(cured.thresholds.filter((t) => !t.ok)).toEqual([]);
  });

  it('the server ran as the process actor, and its own log says which timeout it had and how many idle closes it made', () => {
    expect(race.actors.web!['kind']).toBe('process');
    expect(race.actors.web!['exit']).toMatchObject({ code: 0, asked: true });
    const log = readFileSync(join(raceDir, 'web.log'), 'utf8');
    expect(log).toContain('keepAliveTimeout 5000 ms');
    // Node counts a 'timeout' per idle close; the kernel counts each that ended in this host's TIME_WAIT or in an RST.
    const idle = Number(/SIGTERM: (\d+) idle connections closed/.exec(log)![1]);
    expect(idle).toBeGreaterThan(0);
    expect(readFileSync(join(curedDir, 'web.log'), 'utf8')).toContain('SIGTERM: 0 idle connections closed');
  });
});
