// nat-gateway-snat: four clients hold 30 kept-alive connections each to one server through a gateway that
// masquerades into 100 ports. Evidence: the server's per-peer census (connections from the gateway's address),
// the gateway's conntrack counters in its own namespace, the clients' errors and SYN retransmissions.
import { beforeAll, expect, it } from 'vitest';
import { type TestReport, runShort } from '../helpers/lab.ts';
import { describeWithTools } from '../helpers/tools.ts';

const CLIENTS = ['c1', 'c2', 'c3', 'c4'];
const GATEWAY_WAN = '198.18.1.1';
const fromGateway = (r: TestReport) => r.hosts.server!.peak.peers.listen[GATEWAY_WAN]?.ESTABLISHED ?? 0;
const clientErrors = (r: TestReport) => {
  const byCode: Record<string, number> = {};
  for (const c of CLIENTS) {
    for (const [code, e] of Object.entries(
      (r.actors[`from-${c}`]!['errors'] ?? {}) as Record<string, { count: number }>,
    ))
      byCode[code] = (byCode[code] ?? 0) + e.count;
  }
  return byCode;
};
const sum = (r: TestReport, key: string) => CLIENTS.reduce((s, c) => s + (r.hosts[c]!.counters.delta[key] ?? 0), 0);

describeWithTools(['nft'], 'nat-gateway-snat scenario', () => {
  let exhausted: TestReport;
  beforeAll(async () => {
    ({ report: exhausted } = await runShort('nat-gateway-snat', {}));
  });

  it("runs the NAT out of translated ports: the server holds exactly the range's 100 connections from the gateway", () => {
    expect(fromGateway(exhausted)).toBe(100);
    expect(Object.keys(exhausted.hosts.server!.peak.peers.listen)).toEqual([GATEWAY_WAN]);
    expect(exhausted.thresholds.filter((t) => !t.ok)).toEqual([]);
  });

  it('drops each connection beyond the range at insertion: the clients see timeouts and resent SYNs, never EADDRNOTAVAIL', () => {
    const d = exhausted.hosts.gw!.counters.delta;
    // A clash at insertion is counted twice: the failed insert, and the packet dropped for it.
    expect(d['Conntrack.insert_failed']).toBeGreaterThan(0);
    expect(d['Conntrack.drop']).toBe(d['Conntrack.insert_failed']);
    expect(d['Conntrack.early_drop']).toBe(0);
    // 120 connections wanted, 100 ports: 20 never get an answer to their SYN, each one 3 s request timeout within the 4 s run.
    expect(clientErrors(exhausted)).toEqual({ REQUEST_TIMEOUT: 4 * 30 - 100 });
    expect(sum(exhausted, 'TcpExt.TCPSynRetrans')).toBeGreaterThanOrEqual(4 * 30 - 100);
    const finding = exhausted.claims!.find((f) => f.rule === 'conntrack')!;
    expect(finding.claims.find((c) => c.name === 'translatedPortsInUse')!.value).toBe(100);
    expect(finding.claims.find((c) => c.name === 'conntrackInsertFailed')!.value).toBe(d['Conntrack.insert_failed']);
  });

  it('fully-random, the fix for the insertion race, adds no ports: the same 100 connections and 20 timeouts', async () => {
    const { report } = await runShort('nat-gateway-snat', { randomFully: '1' });
    expect(fromGateway(report)).toBe(100);
    expect(clientErrors(report)).toEqual({ REQUEST_TIMEOUT: 20 });
    expect(report.hosts.gw!.counters.delta['Conntrack.insert_failed']).toBeGreaterThan(0);
  });

  it('a range wider than the pools cures it: all 120 connections through, no client error', async () => {
    const { report } = await runShort('nat-gateway-snat', { natPorts: '50000-50199' });
    expect(fromGateway(report)).toBe(120);
    expect(clientErrors(report)).toEqual({});
    expect(report.thresholds.filter((t) => !t.ok)).toEqual([]);
  });
});
