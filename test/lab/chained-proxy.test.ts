// Two nginx levels in a chain (client -> proxya -> proxyb -> backend): proxya and proxyb each accept and connect,
// so every claim about them must be drawn from one of their peer groups. Every claim passes the truth check.
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import { contradictions } from '../../src/report/truth-check.ts';
import type { Report } from '../../src/report/report.ts';
import { type TestReport, runShort } from '../helpers/lab.ts';
import { describeWithTools } from '../helpers/tools.ts';

const SCENARIO = fileURLToPath(new URL('../fixtures/scenarios/chained-proxy.ts', import.meta.url));

describeWithTools(['nginx'], 'chained nginx proxies', () => {
  let report: TestReport;
  beforeAll(async () => {
    ({ report } = await runShort(SCENARIO, { rate: '300/s', duration: '2s' }));
  });

  it('each level opens one upstream connection per request it accepts', () => {
    const connected = Number(report.actors.flood!['connected']);
    expect(connected).toBeGreaterThan(0);
    for (const h of ['proxya', 'proxyb']) {
      expect(report.hosts[h]!.counters.delta['Tcp.PassiveOpens']).toBe(connected);
      expect(report.hosts[h]!.counters.delta['Tcp.ActiveOpens']).toBe(connected);
    }
  });

  it('makes claims per peer group for both proxies, and every claim passes the truth check', () => {
    const claims = report.claims ?? [];
    for (const h of ['proxya', 'proxyb']) {
      const closes = claims
        .filter((f) => f.host === h)
        .flatMap((f) => f.claims.filter((c) => c.name === 'firstCloses'));
      expect(closes.length).toBeGreaterThan(0);
      // Each proxy is judged per group: its clients' host and its upstream's host apart, never both at once.
      for (const c of closes) expect(c.peers?.length).toBe(1);
    }
    expect(claims.flatMap((f) => f.claims).length).toBeGreaterThan(0);
    expect(contradictions(report as unknown as Report)).toEqual([]);
  });
});
