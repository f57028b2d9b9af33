// server-close in a short form: 400 connections through a 100-port range, the server closing first.
// The server's TIME_WAIT stops at one entry per client 4-tuple, and every other entry was taken over by
// a new SYN: read from the kernel's census and counters.
import { beforeAll, describe, expect, it } from 'vitest';
import { type TestReport, runShort } from '../helpers/lab.ts';

const EVEN_PORTS = 50; // 40000-40099: the half with the low end's parity

describe('server-close scenario', () => {
  let report: TestReport;
  let conns: number;
  beforeAll(async () => {
    ({ report } = await runShort('server-close', { rate: '200/s', duration: '2s', ports: '40000-40099' }));
    conns = report.actors.flood!['connected'] as number;
  });

  it('gets every connection through 4x fewer ports than connections, with no TIME_WAIT on the client', () => {
    expect(conns).toBeGreaterThanOrEqual(380);
    expect(report.actors.flood!['ok']).toBe(conns);
    expect(report.actors.flood!['errors']).toEqual({});
    expect(report.hosts.client!.peak.total.TIME_WAIT).toBe(0);
    expect(report.hosts.client!.counters.delta['Tcp.AttemptFails']).toBe(0);
  });

  it("holds TIME_WAIT on the server, one per client 4-tuple: the ports of connect()'s preferred parity", () => {
    const server = report.hosts.server!;
    expect(server.peak.listen.TIME_WAIT).toBe(EVEN_PORTS);
    expect(server.peak.peers.listen['198.18.0.1']?.TIME_WAIT).toBe(EVEN_PORTS);
    expect(server.peak.sockstatTw).toBe(EVEN_PORTS);
    expect(report.predictions.flood!.timeWait!.predicted).toBe(EVEN_PORTS);
  });

  it('accounts every TIME_WAIT entry: entered once per connection, all but the last per 4-tuple taken over by a SYN', () => {
    const server = report.hosts.server!.counters.delta;
    expect(server['TcpExt.TW']).toBe(conns);
    expect(server['Tcp.PassiveOpens']).toBe(conns);
    expect(server['TcpExt.TWKilled']).toBe(0);
    expect(server['TcpExt.TWRecycled']).toBe(0);
    // No RST from the client could have ended them.
    expect(report.hosts.client!.counters.delta['Tcp.OutRsts']).toBe(0);
    expect(report.findings.join('\n')).toMatch(new RegExp(`${conns - EVEN_PORTS} entries left TIME_WAIT early`));
  });

  it('passes its thresholds', () => {
    expect(report.thresholds.filter((t) => !t.ok)).toEqual([]);
  });
});
