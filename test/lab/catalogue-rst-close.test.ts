// rst-close in a short form: twice as many connections as ports, closed by RST from either side.
// Assertions read the kernel's counters and states, and the errno each peer's syscalls returned.
import { beforeAll, describe, expect, it } from 'vitest';
import { type TestReport, runShort } from '../helpers/lab.ts';

type Errors = Record<string, { count: number; syscalls: Record<string, number> }>;

describe('rst-close scenario', () => {
  let report: TestReport;
  beforeAll(async () => {
    ({ report } = await runShort('rst-close', { rate: '100/s', duration: '2s', ports: '40000-40099' }));
  });

  it('a client that closes by RST leaves no TIME_WAIT, so 2x its port budget gets through', () => {
    const flood = report.actors['rst-flood']!;
    const conns = flood['connected'] as number;
    expect(conns).toBeGreaterThan(100);
    expect(flood['ok']).toBe(conns);
    expect(flood['errors']).toEqual({});
    const host = report.hosts.rstclient!;
    expect(host.peak.total.TIME_WAIT).toBe(0);
    expect(host.peak.sockstatTw).toBe(0);
    // A zero-linger close is counted in TCPAbortOnData, once per close; a segment crossing the RST may draw another.
    expect(host.counters.delta['TcpExt.TCPAbortOnData']).toBe(conns);
    expect(host.counters.delta['Tcp.OutRsts']).toBeGreaterThanOrEqual(conns);
  });

  it('its server reads ECONNRESET once per connection, and its kernel counts each reset', () => {
    const conns = report.actors['rst-flood']!['connected'] as number;
    const errors = report.actors.web!['errors'] as Errors;
    expect(errors.ECONNRESET).toMatchObject({ count: conns, syscalls: { read: conns } });
    expect(report.hosts.server!.counters.delta['Tcp.EstabResets']).toBe(conns);
    expect(report.hosts.server!.peak.total.TIME_WAIT).toBe(0);
  });

  it('a server that closes by RST leaves no TIME_WAIT; every client connection is reset, seen as ECONNRESET or as EOF', () => {
    const flood = report.actors.flood!;
    const conns = flood['connected'] as number;
    const errors = flood['errors'] as Errors;
    expect(report.hosts.rstserver!.peak.total.TIME_WAIT).toBe(0);
    expect(report.hosts.rstserver!.counters.delta['TcpExt.TCPAbortOnData']).toBe(conns);
    expect(report.hosts.rstserver!.counters.delta['Tcp.OutRsts']).toBeGreaterThanOrEqual(conns);
    expect(report.hosts.client!.counters.delta['Tcp.EstabResets']).toBe(conns);
    expect(errors.ECONNRESET!.count).toBeGreaterThan(0);
    expect(errors.ECONNRESET!.syscalls).toEqual({ read: errors.ECONNRESET!.count });
    expect(errors.ECONNRESET!.count + (flood['peerClosed'] as number)).toBe(conns);
  });

  it('explains who reset and why, and passes its thresholds', () => {
    const text = report.findings.join('\n');
    expect(text).toMatch(/Host rstclient closed \d+ connections with RST/);
    expect(text).toMatch(/ECONNRESET reached actor web on host server .* SO_LINGER 0/);
    expect(report.thresholds.filter((t) => !t.ok)).toEqual([]);
  });
});
