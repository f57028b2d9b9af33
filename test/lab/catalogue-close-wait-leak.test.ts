// close-wait-leak in a short form: the server's CLOSE_WAIT stays, the client's orphaned FIN_WAIT_2 goes
// after a 1 s tcp_fin_timeout. Every assertion reads the kernel's states and counters.
import { beforeAll, describe, expect, it } from 'vitest';
import { type TestReport, runShort } from '../helpers/lab.ts';

describe('close-wait-leak scenario', () => {
  let report: TestReport;
  let connected: number;
  beforeAll(async () => {
    ({ report } = await runShort('close-wait-leak', { rate: '50/s', duration: '2s', finTimeout: '1' }));
    connected = report.actors.flood!['connected'] as number;
  });

  it('completes every request, with no error', () => {
    expect(connected).toBeGreaterThanOrEqual(95);
    expect(report.actors.flood!['ok']).toBe(connected);
    expect(report.actors.flood!['errors']).toEqual({});
    expect(report.hosts.client!.sysctls['net.ipv4.tcp_fin_timeout']).toBe('1');
  });

  it('leaves one CLOSE_WAIT per connection on the server, from the client, still there at the end', () => {
    const server = report.hosts.server!;
    // The client's port of a connection whose FIN_WAIT_2 timed out (1 s) is free again: where the client picks it
    // for a new connection, the SYN meets the server's CLOSE_WAIT on that 4-tuple, gets a challenge ACK, the client
    // resets, and the old CLOSE_WAIT ends (Tcp.EstabResets). Alone it does not happen (0 in 8 runs): connect()
    // walks forward from where its last search ended, kept in the kernel's table_perturb, which is global and indexed
    // by a hash of source address, destination and port, the same in every lab test (198.18.0.1 to 198.18.0.2:8080).
    // Lab test files run one at a time, so what moves that slot is another lab on the machine at the same moment (a
    // second test run, a benchmark): this client can then land on a port it freed a second before. Runs beside other
    // work saw 1 and 4 of 100. Each one is counted (a TCPSYNChallenge and an EstabResets); the leak still holds almost
    // every connection.
    const endedByReuse = server.counters.delta['Tcp.EstabResets']!;
    expect(endedByReuse).toBe(server.counters.delta['TcpExt.TCPSYNChallenge'] ?? 0);
    expect(endedByReuse).toBeLessThan(connected / 10);
    expect(server.final.CLOSE_WAIT + endedByReuse).toBe(connected);
    expect(server.peak.peers.listen['198.18.0.1']?.CLOSE_WAIT).toBeGreaterThanOrEqual(connected - endedByReuse);
    expect(report.actors.web!['leaked']).toBe(connected);
    expect(server.peak.total.TIME_WAIT).toBe(0);
  });

  it("ends the client's orphaned FIN_WAIT_2 after tcp_fin_timeout, counted as TWKilled (timer <= 4 s)", () => {
    const client = report.hosts.client!;
    expect(client.peak.total.FIN_WAIT2).toBeGreaterThan(0);
    expect(client.final.FIN_WAIT2).toBe(0);
    expect(client.peak.total.TIME_WAIT).toBe(0);
    expect(client.counters.delta['TcpExt.TWKilled']).toBe(connected);
    expect(client.counters.delta['TcpExt.TW']).toBe(0);
  });

  it('explains both sides and passes its thresholds', () => {
    const text = report.findings.join('\n');
    expect(text).toMatch(/CLOSE_WAIT on host server: peak \d+/);
    expect(text).toMatch(/FIN_WAIT_2 on host client: .* 0 at the last sample.*orphans/);
    expect(report.thresholds.filter((t) => !t.ok)).toEqual([]);
  });
});
