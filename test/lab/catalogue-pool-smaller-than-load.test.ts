// pool-smaller-than-load and its client-side twin in a short form: bursts of 100 requests every 500 ms for 3 s
// against a pool that keeps 2 idle connections (nginx upstream `keepalive 2`; Node's http.Agent maxFreeSockets
// 2), and the cure (a pool of 100). Connections per request come from the pool host's Tcp.ActiveOpens, checked
// against the wave model computed here from the responses counted, not against the report's own prediction.
import { beforeAll, describe, expect, it } from 'vitest';
import { type TestReport, runShort } from '../helpers/lab.ts';
import { describeWithTools } from '../helpers/tools.ts';

const SHORT = { duration: '3s', every: '500ms', concurrency: '100' };
const CONCURRENCY = 100;

/** The wave model: the first burst opens every connection, each later one all but the `kept` left idle. */
const expectedOpens = (requests: number, kept: number) =>
  CONCURRENCY + ((requests - CONCURRENCY) * (CONCURRENCY - kept)) / CONCURRENCY;

/** 3 s of a burst every 500 ms: 6 bursts. A start a busy machine reached too late is counted missed, never dropped. */
const SCHEDULED = 6 * CONCURRENCY;

function churn(report: TestReport, host: string, load: string) {
  const f = report.actors[load]!;
  const requests = f['responses'] as number;
  expect(Number(f['attempts']) + Number(f['missedStarts'])).toBe(SCHEDULED);
  expect(requests).toBe(f['attempts']);
  const opens = report.hosts[host]!.counters.delta['Tcp.ActiveOpens']!;
  return { requests, opens, perRequest: opens / requests };
}

function expectSmallPool(report: TestReport, owner: string, host: string, destination: string) {
  const { requests, opens, perRequest } = churn(report, host, 'flood');
  expect(requests).toBeGreaterThanOrEqual(SCHEDULED - 2 * CONCURRENCY);
  const predicted = expectedOpens(requests, 2) / requests;
  expect(perRequest).toBeGreaterThanOrEqual(predicted * 0.8);
  expect(perRequest).toBeLessThanOrEqual(predicted * 1.2);
  // Every connection closed beyond the 2 kept is one TIME_WAIT on the pool's host, toward its destination
  // (tcp_rfc1337=1 there: none is ended early), and the kernel counted each as a first close.
  const h = report.hosts[host]!;
  const timeWait = h.peak.peers.ephemeral[destination]!.TIME_WAIT!;
  expect(timeWait).toBeGreaterThanOrEqual(Math.floor((opens - 2) * 0.95));
  expect(timeWait).toBeLessThanOrEqual(opens);
  expect(h.counters.delta['TcpExt.TW']).toBeGreaterThanOrEqual(timeWait);
  const p = report.predictions[owner]!.poolChurn!;
  expect(p).toMatchObject({
    idleKept: 2,
    concurrency: CONCURRENCY,
    arrivals: 'waves',
    requests,
    measuredConnections: opens,
  });
  const claims = report.claims!.find((c) => c.rule === 'pool-smaller-than-load')!;
  expect(claims.host).toBe(host);
  expect(claims.claims.find((c) => c.name === 'connectionsPerRequest')!.value).toBeCloseTo(perRequest, 6);
  expect(report.findings[claims.finding]).toMatch(
    /^Keep-alive is on at \S+ \(host \S+\), but its pool keeps only 2 idle connections/,
  );
  expect(report.thresholds.filter((t) => !t.ok)).toEqual([]);
}

function expectCure(report: TestReport, host: string) {
  const { requests, opens } = churn(report, host, 'flood');
  expect(requests).toBeGreaterThanOrEqual(SCHEDULED - 2 * CONCURRENCY);
  // The first burst's connections carry every later request: near 0 new connections per request after it.
  expect(opens).toBeGreaterThanOrEqual(CONCURRENCY);
  expect((opens - CONCURRENCY) / (requests - CONCURRENCY)).toBeLessThanOrEqual(0.05);
  expect(report.hosts[host]!.peak.ephemeral.TIME_WAIT).toBeLessThanOrEqual(opens - CONCURRENCY);
  expect(report.thresholds.filter((t) => !t.ok)).toEqual([]);
}

describeWithTools(['nginx'], 'pool-smaller-than-load: nginx upstream keepalive 2 under bursts of 100', () => {
  let small: TestReport;
  let cure: TestReport;
  beforeAll(async () => {
    ({ report: small } = await runShort('pool-smaller-than-load', SHORT));
    ({ report: cure } = await runShort('pool-smaller-than-load', { ...SHORT, pool: '100' }));
  });

  it('opens about 1 - 2/100 upstream connections per request and leaves their TIME_WAIT on the proxy', () => {
    expectSmallPool(small, 'proxy', 'proxy', `${small.hosts.backend!.address}:8080`);
    // The client's own pool is as large as its bursts: 100 connections, never closed during the run.
    expect(small.hosts.client!.counters.delta['Tcp.ActiveOpens']).toBe(CONCURRENCY);
    expect(small.hosts.backend!.peak.total.TIME_WAIT).toBe(0);
  });

  it("with keepalive 100 opens the first burst's connections and reuses them", () => expectCure(cure, 'proxy'));
});

describe("pool-smaller-than-load-client: the client's own pool", () => {
  let agent: TestReport;
  let undici: TestReport;
  let cure: TestReport;
  beforeAll(async () => {
    ({ report: agent } = await runShort('pool-smaller-than-load-client', SHORT));
    ({ report: undici } = await runShort('pool-smaller-than-load-client', { ...SHORT, client: 'undici' }));
    ({ report: cure } = await runShort('pool-smaller-than-load-client', { ...SHORT, pool: '100' }));
  });

  it("Node's http.Agent with maxFreeSockets 2 opens and closes connections beyond the 2, TIME_WAIT on the client", () => {
    expectSmallPool(agent, 'flood', 'client', `${agent.hosts.server!.address}:8080`);
    // The actor's own count of the sockets its agent made is the kernel's.
    expect(agent.actors.flood!['newConnections']).toBe(agent.hosts.client!.counters.delta['Tcp.ActiveOpens']);
  });

  it("undici's Pool of 2 never opens a third: the other requests wait, no churn, no TIME_WAIT", () => {
    const f = undici.actors.flood!;
    expect(Number(f['attempts']) + Number(f['missedStarts'])).toBe(SCHEDULED);
    expect(f['responses']).toBeGreaterThanOrEqual(SCHEDULED - 2 * CONCURRENCY);
    expect(undici.hosts.client!.counters.delta['Tcp.ActiveOpens']).toBe(2);
    expect(f['requestsOnReused']).toBe((f['responses'] as number) - 2);
    expect(undici.hosts.client!.peak.total.TIME_WAIT).toBe(0);
    expect(undici.predictions['flood']?.poolChurn).toBeUndefined();
  });

  it("with maxFreeSockets 100 opens the first burst's connections and reuses them", () => expectCure(cure, 'client'));
});
