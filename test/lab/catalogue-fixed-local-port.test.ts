// fixed-local-port in a short form: four clients connect 12 times each from local port 50000. Evidence:
// the clients' TcpExt.TWRecycled, their TIME_WAIT census and the errno (and syscall) of every failure.
import { beforeAll, describe, expect, it } from 'vitest';
import { type TestReport, runShort } from '../helpers/lab.ts';

const COUNT = 12;
type Errors = Record<string, { count: number; syscalls: Record<string, number> }>;

describe('fixed-local-port scenario', () => {
  let report: TestReport;
  const actor = (name: string) => report.actors[`from-${name}`]!;
  const recycled = (host: string) => report.hosts[host]!.counters.delta['TcpExt.TWRecycled'];

  beforeAll(async () => {
    // One connection every 200 ms: the previous one (LAST_ACK on host srvclose) must be gone before the next
    // connect() from the same port, even when the whole suite loads the machine and delays the client's close.
    ({ report } = await runShort('fixed-local-port', { count: String(COUNT), rate: '5/s' }));
  });

  it('with timestamps and tcp_tw_reuse=1, every connection takes over the previous TIME_WAIT', () => {
    expect(actor('reuse')['connected']).toBe(COUNT);
    expect(recycled('reuse')).toBe(COUNT - 1);
  });

  it('without timestamps the first TIME_WAIT blocks the 4-tuple: EADDRNOTAVAIL from connect(), never from bind()', () => {
    expect(actor('nots')['connected']).toBe(1);
    expect(actor('nots')['errors']).toEqual({
      EADDRNOTAVAIL: expect.objectContaining({ count: COUNT - 1, syscalls: { connect: COUNT - 1 } }),
    });
    expect(recycled('nots')).toBe(0);
    expect(report.hosts.nots!.peak.ephemeral.TIME_WAIT).toBe(1);
  });

  it('with tcp_tw_reuse=0 reports whichever the kernel did, and the counters agree with the errors', () => {
    const connected = Number(actor('noreuse')['connected']);
    const failed = (actor('noreuse')['errors'] as Errors).EADDRNOTAVAIL?.count ?? 0;
    expect(connected + failed).toBe(COUNT);
    // Each connection after the first either took over the TIME_WAIT or failed on it.
    expect(recycled('noreuse')).toBe(connected - 1);
    const text = report.findings.join('\n');
    if (recycled('noreuse')! > 0) expect(text).toMatch(/Host noreuse .* took over .* although tcp_tw_reuse=0/);
  });

  it("when the server closes first the client holds no TIME_WAIT and every SYN is accepted into the server's", () => {
    expect(actor('srvclose')['connected']).toBe(COUNT);
    expect(report.hosts.srvclose!.peak.total.TIME_WAIT).toBe(0);
    expect(recycled('srvclose')).toBe(0);
    expect(report.thresholds.filter((t) => !t.ok)).toEqual([]);
  });
});
