// IPv6 labs: short-conn with --set family=ipv6 runs out of ports as its IPv4 twin does (ip_local_port_range and
// tcp_tw_reuse are net.ipv4 sysctls that serve IPv6 too), on both flood engines. Its traffic stays on 2001:2::/48
// inside the run's own namespaces, and the machine's forwarding, nftables ruleset and routes are as they were.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressInLabNetwork6 } from '../../src/plan/lab-addresses6.ts';
import type { Lab } from '../../src/lab/driver.ts';
import { buildLab, inHost, runShort, type TestReport } from '../helpers/lab.ts';
import { machineNetwork, type MachineNetwork } from '../helpers/machine-network.ts';
import { describeWithTools } from '../helpers/tools.ts';
import { expectFirstFailureAsPredicted, expectPortsRanOut } from '../helpers/port-exhaustion.ts';

const BUDGET = 500;

describe('an IPv6 lab host', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await buildLab({ client: {}, server: {} }, 'ipv6');
  });
  afterAll(() => lab?.teardown());

  it('has its 2001:2::/48 address usable at once (nodad: never tentative) and no IPv4 address', () => {
    const addresses = inHost(lab, 'client', 'ip', ['-o', 'addr', 'show', 'dev', 'eth0']);
    const global = addresses.split('\n').filter((l) => l.includes('scope global'));
    expect(global).toHaveLength(1);
    expect(global[0]).toMatch(/inet6 2001:2::1\/64 scope global nodad/);
    // The link-local fe80:: address still runs DAD (tentative for a while); nothing of the lab uses it.
    expect(global[0]).not.toMatch(/tentative/);
    expect(addresses).not.toMatch(/\binet /);
    // A connection across the bridge right after the build: DAD would fail it with EADDRNOTAVAIL for about a second.
    expect(inHost(lab, 'client', 'ip', ['-6', 'route', 'get', '2001:2::2'])).toMatch(
      /^2001:2::2 from :: dev eth0 proto kernel src 2001:2::1/,
    );
  });
});

describe.each(['node', 'native'])('short-conn --set family=ipv6, flood engine %s', (engine) => {
  let report: TestReport;
  let before: MachineNetwork;
  let after: MachineNetwork;
  beforeAll(async () => {
    before = machineNetwork();
    ({ report } = await runShort('short-conn', {
      family: 'ipv6',
      ports: '40000-40499',
      rate: '250/s',
      duration: '3.5s',
      engine,
    }));
    after = machineNetwork();
  });

  it('addresses every host from 2001:2::/48 only, and connects to the server there', () => {
    expect(report.scenario.plan.family).toBe('ipv6');
    for (const host of Object.values(report.hosts)) expect(addressInLabNetwork6(host.address)).toBe(true);
    expect(report.actors.flood!['target']).toBe('[2001:2::2]:8080');
  });

  it('runs out of ports with EADDRNOTAVAIL from connect() once every port is in TIME_WAIT', () => {
    expectPortsRanOut(report.actors.flood!, BUDGET);
  });

  it('fails first within 20% of the predicted time, and the client holds its whole port budget in TIME_WAIT toward [2001:2::2]:8080', () => {
    expectFirstFailureAsPredicted(report.predictions.flood!, BUDGET);
    expect(report.hosts.client!.peak.ephemeral.TIME_WAIT).toBe(BUDGET);
    expect(report.hosts.client!.peak.sockstatTw).toBe(BUDGET);
    expect(report.hosts.client!.peak.peers.ephemeral['[2001:2::2]:8080']?.TIME_WAIT).toBe(BUDGET);
  });

  it('counts only peers of 2001:2::/48 on either host, IPv6 all through', () => {
    const peers = Object.values(report.hosts).flatMap((h) => [
      ...Object.keys(h.peak.peers.listen),
      ...Object.keys(h.peak.peers.ephemeral).map((e) => e.slice(1, e.lastIndexOf(']'))),
    ]);
    expect(peers.length).toBeGreaterThan(0);
    for (const peer of peers) expect(addressInLabNetwork6(peer)).toBe(true);
    expect(report.hosts.client!.counters.delta['Tcp.ActiveOpens']).toBe(BUDGET);
    expect(report.hosts.server!.counters.delta['Tcp.PassiveOpens']).toBe(BUDGET);
    expect(report.hosts.server!.peak.total.TIME_WAIT).toBe(0);
  });

  it('says where the ports went, with the destination written [addr]:port', () => {
    expect(report.findings.join('\n')).toMatch(
      /Toward \[2001:2::2\]:8080 that is 500 of its 500-port ip_local_port_range/,
    );
    expect(report.thresholds.filter((t) => !t.ok)).toEqual([]);
  });

  it("leaves the machine's forwarding, nftables ruleset and routes as they were", () => {
    expect(after).toEqual(before);
  });
});

describe('short-conn --set family=dual: one port range, a budget per destination in each family', () => {
  let report: TestReport;
  beforeAll(async () => {
    // 8 s at 250/s plans 2,000 connections per flood: enough to spend 500 ports even at a third of the rate on a busy machine.
    ({ report } = await runShort('short-conn', {
      family: 'dual',
      ports: '40000-40499',
      rate: '250/s',
      duration: '8s',
      engine: 'native',
    }));
  });

  it('gives the client both addresses, and flood6 the server over IPv6', () => {
    expect(report.scenario.plan.hosts.client).toMatchObject({ address: '198.18.0.1', address6: '2001:2::1' });
    expect(report.actors.flood!['target']).toBe('198.18.0.2:8080');
    expect(report.actors.flood6!['target']).toBe('[2001:2::2]:8080');
  });

  it('runs each family out of ports after the whole range, so the client holds twice its range in TIME_WAIT', () => {
    expectPortsRanOut(report.actors.flood!, BUDGET);
    expectPortsRanOut(report.actors.flood6!, BUDGET);
    expect(report.hosts.client!.peak.peers.ephemeral['198.18.0.2:8080']?.TIME_WAIT).toBe(BUDGET);
    expect(report.hosts.client!.peak.peers.ephemeral['[2001:2::2]:8080']?.TIME_WAIT).toBe(BUDGET);
    expect(report.hosts.client!.peak.sockstatTw).toBe(2 * BUDGET);
    expect(report.hosts.client!.counters.delta['Tcp.ActiveOpens']).toBe(2 * BUDGET);
  });

  it('says that both families share the range, each with the whole of it toward the server', () => {
    expect(report.findings.join('\n')).toMatch(
      /Host client connected to host server over IPv4, to 198\.18\.0\.2:8080 \(actor flood\), and over IPv6, to \[2001:2::2\]:8080 \(actor flood6\): both families take their local ports from its one ip_local_port_range \(40000-40499, 500 ports/,
    );
    expect(report.findings.join('\n')).toMatch(
      /peaked at 500 over IPv4 and 500 over IPv6; the host held 1,000 at its peak, more than the 500 ports of its range/,
    );
  });
});

describe("nat-gateway-snat --set family=ipv6: IPv6 masquerade in the gateway's namespace", () => {
  let report: TestReport;
  let before: MachineNetwork;
  let after: MachineNetwork;
  beforeAll(async () => {
    before = machineNetwork();
    ({ report } = await runShort('nat-gateway-snat', { family: 'ipv6' }));
    after = machineNetwork();
  });

  it('forwards IPv6 inside the gateway only, and the server sees every translated port from its IPv6 address', () => {
    expect(report.hosts.gw!.sysctls['net.ipv6.conf.all.forwarding']).toBe('1');
    expect(report.scenario.plan.hosts.gw!.gateway!.masquerade!.address).toBe('2001:2:0:1::1');
    // 4 clients x 30 kept-alive connections into 100 translated ports (50000-50099): 100 get through.
    expect(report.hosts.server!.peak.peers.listen['2001:2:0:1::1']?.ESTABLISHED).toBe(100);
    expect(Object.keys(report.hosts.server!.peak.peers.listen)).toEqual(['2001:2:0:1::1']);
  });

  it("leaves the machine's forwarding, nftables ruleset and routes as they were", () => {
    expect(after).toEqual(before);
  });
});

describeWithTools(['nginx'], 'proxy-short-upstream --set family=ipv6: nginx on [::] toward an IPv6 upstream', () => {
  let report: TestReport;
  beforeAll(async () => {
    ({ report } = await runShort('proxy-short-upstream', {
      family: 'ipv6',
      proxyPorts: '40000-40499',
      rate: '250/s',
      duration: '4s',
    }));
  });

  it('runs the proxy host out of its 500 ports toward [2001:2::3]:8080, as nginx logs it (99: Cannot assign requested address)', () => {
    expect(report.hosts.proxy!.peak.peers.ephemeral['[2001:2::3]:8080']?.TIME_WAIT).toBe(500);
    expect(report.actors.proxy!['errorLog'].causes.portsExhausted).toBeGreaterThan(0);
    expect(report.actors.flood!['statuses']['502']).toBeGreaterThan(0);
    expect(report.hosts.proxy!.peak.peers.listen['2001:2::1']?.ESTABLISHED).toBeGreaterThan(0);
  });
});
