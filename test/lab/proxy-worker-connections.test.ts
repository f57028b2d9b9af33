// nginx out of worker_connections (issue 22 item 5): a proxy with worker_connections 16 under a closed-model flood
// of 32 connections toward a backend that answers after 200 ms. nginx closes what it accepted and cannot serve and
// logs "16 worker_connections are not enough"; the finding gives that count from its log and the requests the
// flood lost, which are errors of the flood in the Load table.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { nginxConfig, parseNginxErrorLine } from '../../src/actors/proxy-nginx.ts';
import { PlanValidationError } from '../../src/core/errors.ts';
import { loadPlan } from '../../src/plan/load-plan.ts';
import { contradictions } from '../../src/report/truth-check.ts';
import type { Report } from '../../src/report/report.ts';
import { type TestReport, runShort } from '../helpers/lab.ts';
import { proxySettings } from '../helpers/proxy-settings.ts';
import { describeWithTools } from '../helpers/tools.ts';

const SCENARIO = fileURLToPath(new URL('../fixtures/scenarios/proxy-worker-connections.ts', import.meta.url));

describe('nginx worker_connections', () => {
  it("its error-log line is a cause of its own, in both of nginx's wordings", () => {
    expect(parseNginxErrorLine('2026/12/07 09:22:32 [alert] 2#2: 16 worker_connections are not enough').cause).toBe(
      'workerConnections',
    );
    expect(
      parseNginxErrorLine('2026/12/07 09:22:32 [warn] 2#2: 16 worker_connections are not enough, reusing connections')
        .cause,
    ).toBe('workerConnections');
  });

  it('is written into the events block as given, 1000 by default, and refused out of its bounds or for another engine', async () => {
    const version = { text: '1.22.1', keepAliveByDefault: false };
    expect(
      nginxConfig({ settings: proxySettings({ workerConnections: 16 }), dir: '/tmp/x', version, rootless: false }),
    ).toContain('events { worker_connections 16; }');
    expect(nginxConfig({ settings: proxySettings(), dir: '/tmp/x', version, rootless: false })).toContain(
      'events { worker_connections 1000; }',
    );
    expect(() =>
      nginxConfig({ settings: proxySettings({ workerConnections: 2.5 }), dir: '/tmp/x', version, rootless: false }),
    ).toThrow(/workerConnections 2.5/);
    const problems = async (set: Record<string, string>) => {
      try {
        await loadPlan(SCENARIO, set);
        return [];
      } catch (err) {
        if (err instanceof PlanValidationError) return [...err.problems];
        throw err;
      }
    };
    expect(await problems({})).toEqual([]);
    expect(await problems({ engine: 'haproxy' })).toEqual([expect.stringMatching(/workerConnections: nginx only/)]);
    expect(await problems({ engine: 'builtin' })).toEqual([
      expect.stringMatching(/workerConnections: nginx only .*builtin engine has no connection limit/),
    ]);
    expect(await problems({ workerConnections: '3' })).toEqual([expect.stringMatching(/workerConnections/)]);
    expect(await problems({ workerConnections: '1001' })).toEqual([expect.stringMatching(/workerConnections/)]);
  });
});

describeWithTools(['nginx'], 'nginx out of worker_connections under a bounded flood', () => {
  let report: TestReport;
  let dir: string;
  beforeAll(async () => {
    ({ report, dir } = await runShort(SCENARIO, { duration: '2s', concurrency: '32' }));
  });

  it('nginx logged the cause, and the flood lost requests: each request a response or an error', () => {
    const log = report.actors.proxy!['errorLog'] as { causes: Record<string, number> };
    expect(log.causes['workerConnections']).toBeGreaterThan(0);
    const flood = report.actors.flood!;
    const errors = flood['errors'] as Record<string, { count: number }>;
    expect(flood['errorCount']).toBeGreaterThan(0);
    // Nothing lost uncounted: a request the proxy closed before answering is an error (EOF_BEFORE_RESPONSE, or
    // ECONNRESET where the request was still unread when it closed).
    expect(flood['responses'] + flood['errorCount']).toBe(flood['attempts']);
    expect(Object.keys(errors).every((code) => ['EOF_BEFORE_RESPONSE', 'ECONNRESET'].includes(code))).toBe(true);
  });

  it('the finding names nginx, its host, the count it logged and what the client lost, and passes the truth check', () => {
    const log = report.actors.proxy!['errorLog'] as { causes: Record<string, number> };
    const i = report.findings.findIndex((f) => f.includes('worker_connections are not enough'));
    expect(i).toBeGreaterThanOrEqual(0);
    const s = report.findings[i]!;
    expect(s).toContain('On host proxy, nginx ');
    expect(s).toContain(`by cause: workerConnections ${log.causes['workerConnections']!.toLocaleString('en-US')} (`);
    expect(s).toContain(
      `Its clients (actor flood on host client) lost ${Number(report.actors.flood!['errorCount']).toLocaleString('en-US')} of `,
    );
    const claims = report.claims!.find((c) => c.finding === i)!;
    expect(claims.claims.map((c) => c.name)).toEqual(['serverLosses', 'clientErrors']);
    expect(contradictions(report as unknown as Report)).toEqual([]);
  });

  it('the lost requests are errors in the Load table of summary.md', () => {
    const md = readFileSync(join(dir, 'summary.md'), 'utf8');
    const f = report.actors.flood!;
    const row = md.split('\n').find((l) => l.startsWith('| flood | client |'))!;
    const cells = row.split('|').map((c) => c.trim());
    // actor, host, attempts, connected, ok, errors
    expect(cells.slice(1, 7)).toEqual([
      'flood',
      'client',
      ...[f['attempts'], f['connected'], f['ok'], f['errorCount']].map((v: number) => v.toLocaleString('en-US')),
    ]);
    expect(md).toMatch(/\| flood \| EOF_BEFORE_RESPONSE \| read \|/);
  });
});
