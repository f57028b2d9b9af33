// The main job in a short form: 500 ports at 250 new connections per second run out after about 2 s, with the
// flood on either engine. Every assertion reads what the kernel reported (socket states, counters, errno), not
// what the code expects.
import { beforeAll, describe, expect, it } from 'vitest';
import { type TestReport, runShort } from '../helpers/lab.ts';
import { expectFirstFailureAsPredicted, expectPortsRanOut } from '../helpers/port-exhaustion.ts';

const BUDGET = 500;

describe.each(['node', 'native'])('short-conn scenario, flood engine %s', (engine) => {
  let report: TestReport;
  beforeAll(async () => {
    ({ report } = await runShort('short-conn', { ports: '40000-40499', rate: '250/s', duration: '3.5s', engine }));
  });

  it('writes the client sysctls into its namespace, as read back from the kernel', () => {
    expect(report.hosts.client!.sysctls).toMatchObject({
      'net.ipv4.ip_local_port_range': '40000 40499',
      'net.ipv4.tcp_tw_reuse': '0',
    });
    expect(report.hosts.server!.sysctls['net.ipv4.ip_local_port_range']).not.toBe('40000 40499');
  });

  it('runs out of ports with EADDRNOTAVAIL from connect() once every port is in TIME_WAIT', () => {
    expectPortsRanOut(report.actors.flood!, BUDGET);
  });

  it('fails first within 20% of the predicted time, and the client holds its whole port budget in TIME_WAIT', () => {
    expectFirstFailureAsPredicted(report.predictions.flood!, BUDGET);
    expect(report.hosts.client!.peak.ephemeral.TIME_WAIT).toBeGreaterThanOrEqual(BUDGET * 0.98);
    expect(report.hosts.client!.peak.ephemeral.TIME_WAIT).toBeLessThanOrEqual(BUDGET * 1.02);
    expect(report.hosts.client!.peak.sockstatTw).toBe(report.hosts.client!.peak.total.TIME_WAIT);
  });

  it('puts TIME_WAIT on the host that closed first only', () => {
    expect(report.hosts.server!.peak.total.TIME_WAIT).toBe(0);
    expect(report.actors.web!['peerClosedFirst']).toBe(BUDGET);
    expect(report.findings.join('\n')).toMatch(/TIME_WAIT piled up on host client: peak 500/);
    expect(report.findings.join('\n')).toMatch(/Host server held no TIME_WAIT/);
  });

  it('shows the same story in the kernel counters', () => {
    expect(report.hosts.client!.counters.delta['Tcp.ActiveOpens']).toBe(BUDGET);
    expect(report.hosts.server!.counters.delta['Tcp.PassiveOpens']).toBe(BUDGET);
    expect(report.hosts.client!.counters.delta['TcpExt.TWRecycled']).toBe(0);
  });

  it('passes its own thresholds', () => {
    expect(report.thresholds.filter((t) => !t.ok)).toEqual([]);
    expect(report.verdict).toBe('pass');
  });
});
