// The truth matrix: short real runs across who closes, how each side closes, keep-alive, tcp_tw_reuse and a proxy's
// backend closing first. In every one, no finding may contradict the evidence its own report carries
// (contradictions()), who closed first must be what the kernels counted, and the census must never count a
// 4-tuple twice. Each run is a second or so of load at 200 connections per second through 200 client ports.
import { describe, expect, it } from 'vitest';
import { evidenceOf, type FirstCloser } from '../../src/report/evidence/closer.ts';
import { planLinks } from '../../src/report/evidence/links.ts';
import { firstCloses } from '../../src/report/evidence/time-wait.ts';
import type { Report } from '../../src/report/report.ts';
import { contradictions } from '../../src/report/truth-check.ts';
import { type TestReport, runShort } from '../helpers/lab.ts';
import { describeWithTools } from '../helpers/tools.ts';

const SHORT = { ports: '40000-40199', rate: '200/s', duration: '1.5s' };
const PORTS = 200;

/** Who closed first between two hosts, as the report's evidence says. */
function first(
  report: TestReport,
  client: string,
  server: string,
): { first: FirstCloser; halfClosedBy?: string; clientResets: number; serverResets: number } {
  const r = report as unknown as Report;
  const e = evidenceOf(r.hosts, planLinks(r.scenario.plan), server).find(
    (g) => g.serverHost === server && g.clientHosts.includes(client),
  )!;
  return { first: e.first, halfClosedBy: e.halfClosedBy, clientResets: e.client.resets, serverResets: e.server.resets };
}

/** What must hold of every report, whatever the configuration. */
function truthful(report: TestReport): void {
  expect(contradictions(report as unknown as Report)).toEqual([]);
  for (const [name, host] of Object.entries(report.hosts)) {
    // A total peak's split comes from one sample: its parts add up to it.
    for (const [state, split] of Object.entries(host.peak.split ?? {})) {
      expect(split.listen + split.ephemeral, `${name} ${state}`).toBe(
        host.peak.total[state as keyof typeof host.peak.total],
      );
    }
    // One socket per 4-tuple: never more TIME_WAIT toward one server ip:port than the client's ports.
    if (name === 'client')
      for (const [peer, c] of Object.entries(host.peak.peers.ephemeral))
        expect(c.TIME_WAIT ?? 0, `${name} -> ${peer}`).toBeLessThanOrEqual(PORTS);
  }
  // Thresholds are kept only where the parameters make them hold.
  expect(report.thresholds.filter((t) => !t.ok)).toEqual([]);
}

describe('truth matrix: short-conn', () => {
  it("client closes with FIN both ways: the client's kernel counts every first close, and its ports run out in TIME_WAIT", async () => {
    const { report } = await runShort('short-conn', SHORT);
    truthful(report);
    expect(first(report, 'client', 'server').first).toBe('client');
    expect(firstCloses(report.hosts.client!)).toBe(report.actors.flood!['connected']);
    expect(firstCloses(report.hosts.server!)).toBe(0);
    const text = report.findings.join('\n');
    expect(text).toMatch(/Host client closed its connections with host server first, as their client side/);
    expect(text).toMatch(/Every local port toward 198\.18\.0\.2:8080 was held by a socket in TIME_WAIT/);
    expect(report.predictions.flood!.timeWait!.closer).toBe('client');
  });

  it('server closes: its kernel counts every first close, though new SYNs keep its TIME_WAIT to one per client port', async () => {
    const { report } = await runShort('short-conn', { ...SHORT, closer: 'server' });
    truthful(report);
    expect(first(report, 'client', 'server').first).toBe('server');
    expect(report.hosts.server!.counters.delta['TcpExt.TW']).toBe(report.actors.flood!['connected']);
    expect(report.hosts.server!.peak.total.TIME_WAIT).toBeLessThan(report.actors.flood!['connected']);
    expect(report.hosts.client!.peak.total.TIME_WAIT).toBe(0);
    expect(report.findings.join('\n')).toMatch(
      /Host server closed its connections with host client first, as their server side/,
    );
    expect(report.findings.join('\n')).not.toMatch(/Every local port .* TIME_WAIT/);
  });

  it('client resets (SO_LINGER 0): nobody closes first with a FIN, and nothing says so', async () => {
    const { report } = await runShort('short-conn', { ...SHORT, closeStyle: 'rst' });
    truthful(report);
    const f = first(report, 'client', 'server');
    expect(f.first).toBe('none');
    expect(f.clientResets).toBe(report.actors.flood!['connected']);
    expect(report.findings.join('\n')).not.toMatch(/closed (?:its|these) connections(?: with host \w+)? first/);
    expect(report.predictions.flood!.timeWait!.closer).toBe('none');
  });

  it('nobody closes (closeStyle never on both sides): no TIME_WAIT anywhere, the ports held by ESTABLISHED, and the findings say so', async () => {
    const { report } = await runShort('short-conn', { ...SHORT, closeStyle: 'never', serverCloseStyle: 'never' });
    truthful(report);
    expect(first(report, 'client', 'server').first).toBe('none');
    expect(report.hosts.client!.peak.sockstatTw).toBe(0);
    expect(report.hosts.client!.peak.peers.ephemeral['198.18.0.2:8080']!.ESTABLISHED).toBe(PORTS);
    // Stats end with the measurement: teardown's closes are not counted as the server's passive closes.
    expect(report.actors.web!['peerClosedFirst']).toBe(0);
    const text = report.findings.join('\n');
    expect(text).toMatch(/none of their connections was closed during the measurement/);
    expect(text).toMatch(/were held by connections still open, not by TIME_WAIT/);
    expect(text).not.toMatch(/closed first/);
    expect(report.predictions.flood!.timeWait!.closer).toBe('none');
  });

  it("client orphans its socket and the server never closes: the orphaned FIN_WAIT_2 entries are the client's first closes", async () => {
    const { report } = await runShort('short-conn', { ...SHORT, closeStyle: 'close', serverCloseStyle: 'never' });
    truthful(report);
    expect(first(report, 'client', 'server').first).toBe('client');
    expect(report.hosts.client!.peak.total.TIME_WAIT).toBe(0);
    expect(report.hosts.client!.peak.total.FIN_WAIT2).toBeGreaterThan(0);
    expect(report.hosts.server!.final.CLOSE_WAIT).toBeGreaterThan(0);
    expect(report.findings.join('\n')).not.toMatch(/TIME_WAIT piled up on host client/);
  });

  it('server keep-alive, client still closes: the client holds the TIME_WAIT', async () => {
    const { report } = await runShort('short-conn', { ...SHORT, keepAlive: 'true' });
    truthful(report);
    expect(first(report, 'client', 'server').first).toBe('client');
    expect(report.hosts.server!.peak.total.TIME_WAIT).toBe(0);
  });

  it('tcp_tw_reuse=1: connect() takes its own TIME_WAIT entries over, no exhaustion is predicted or seen', async () => {
    const { report } = await runShort('short-conn', { ...SHORT, twReuse: '1', rate: '150/s' });
    truthful(report);
    expect(first(report, 'client', 'server').first).toBe('client');
    expect(report.hosts.client!.counters.delta['TcpExt.TWRecycled']).toBeGreaterThan(0);
    expect(report.actors.flood!['errors']).toEqual({});
    expect(report.predictions.flood!.exhaustion!.predictedMs).toBeNull();
    expect(report.predictions.flood!.timeWait!.basis).toContain('tcp_tw_reuse=1');
  });
});

describeWithTools(['nginx'], 'truth matrix: proxy-short-upstream', () => {
  it('the proxy closes first (backendCloser=client): its kernel alone counts the upstream first closes', async () => {
    const { report } = await runShort('proxy-short-upstream', {
      rate: '300/s',
      duration: '1.5s',
      proxyPorts: '40000-40199',
    });
    expect(contradictions(report as unknown as Report)).toEqual([]);
    expect(first(report, 'proxy', 'backend1').first).toBe('client');
    expect(report.hosts.proxy!.peak.peers.ephemeral['198.18.0.3:8080']!.TIME_WAIT).toBeLessThanOrEqual(PORTS);
    expect(report.findings.join('\n')).toMatch(/Host proxy closed these connections first/);
  });

  it('the backend closes first (backendCloser=server): never "the proxy closed first", and the thresholds follow the parameter', async () => {
    const { report } = await runShort('proxy-short-upstream', {
      rate: '300/s',
      duration: '1.5s',
      proxyPorts: '40000-40199',
      backendCloser: 'server',
    });
    expect(contradictions(report as unknown as Report)).toEqual([]);
    const f = first(report, 'proxy', 'backend1').first;
    // The backend closes right after its response and nginx as soon as it has it: either may send the first FIN.
    expect(['server', 'mixed']).toContain(f);
    expect(firstCloses(report.hosts.backend1!)).toBeGreaterThan(0);
    expect(report.findings.join('\n')).not.toMatch(/Host proxy closed these connections first/);
    expect(report.thresholds.filter((t) => !t.ok)).toEqual([]);
    expect(report.verdict).toBe('pass');
  });
});
