// fin-wait-2 in a short form: servers close first, the client never does. With a 1 s tcp_fin_timeout
// the close(2)ing server loses every FIN_WAIT_2, the shutdown-only server keeps them all.
import { beforeAll, describe, expect, it } from 'vitest';
import { type TestReport, runShort } from '../helpers/lab.ts';

describe('fin-wait-2 scenario', () => {
  let report: TestReport;
  beforeAll(async () => {
    ({ report } = await runShort('fin-wait-2', { rate: '50/s', duration: '2s', finTimeout: '1' }));
  });

  it('leaves every connection in CLOSE_WAIT on the client that never closes', () => {
    const conns = (report.actors.flood!['connected'] as number) + (report.actors['shut-flood']!['connected'] as number);
    expect(conns).toBeGreaterThanOrEqual(190);
    expect(report.hosts.client!.final.CLOSE_WAIT).toBe(conns);
    expect(report.actors.flood!['held']).toBe(report.actors.flood!['connected']);
  });

  it('ends the orphaned FIN_WAIT_2 of the close(2)ing server after tcp_fin_timeout (TWKilled: timer <= 4 s)', () => {
    const server = report.hosts.server!;
    const conns = report.actors.flood!['connected'] as number;
    expect(server.sysctls['net.ipv4.tcp_fin_timeout']).toBe('1');
    expect(server.peak.total.FIN_WAIT2).toBeGreaterThan(0);
    expect(server.final.FIN_WAIT2).toBe(0);
    expect(server.counters.delta['TcpExt.TWKilled']).toBe(conns);
    expect(server.peak.total.TIME_WAIT).toBe(0);
  });

  it('keeps every FIN_WAIT_2 of the server that only shut down its side and kept the fd', () => {
    const shut = report.hosts.shutserver!;
    const conns = report.actors['shut-flood']!['connected'] as number;
    expect(shut.final.FIN_WAIT2).toBe(conns);
    expect(shut.peak.peers.listen['198.18.0.1']?.FIN_WAIT2).toBe(conns);
    expect(shut.peak.sockstatTw).toBe(0);
    expect(shut.counters.delta['TcpExt.TWKilled']).toBe(0);
  });

  it('explains both and passes its thresholds', () => {
    const text = report.findings.join('\n');
    expect(text).toMatch(/FIN_WAIT_2 on host server: .*orphans/);
    expect(text).toMatch(/FIN_WAIT_2 on host shutserver: .*not orphans/);
    expect(report.thresholds.filter((t) => !t.ok)).toEqual([]);
  });
});
