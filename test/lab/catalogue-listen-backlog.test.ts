// listen-backlog in a short form: listeners that accept nothing for a while behind somaxconn 4. Evidence:
// the accept queue's length in /proc/net/tcp when they began to accept, ListenOverflows/ListenDrops, the clients' SYN_SENT and
// SYN retransmissions, and (tcp_abort_on_overflow=1) whether any RST went out.
import { beforeAll, describe, expect, it } from 'vitest';
import { type TestReport, runShort } from '../helpers/lab.ts';

const SOMAXCONN = 4;
const CONNECTIONS = 60;

describe('listen-backlog scenario', () => {
  let report: TestReport;
  beforeAll(async () => {
    ({ report } = await runShort('listen-backlog', {
      somaxconn: String(SOMAXCONN),
      backlog: '64',
      rate: '100/s',
      duration: '600ms',
      pause: '1200ms',
    }));
  });

  it('holds at most somaxconn + 1 connections in the accept queue, whatever listen() asked for', () => {
    for (const name of ['web', 'webstrict']) expect(report.actors[name]!['queuedAtResume']).toBe(SOMAXCONN + 1);
  });

  it('counts the excess in ListenOverflows and ListenDrops and drops SYNs without half-open sockets', () => {
    for (const host of ['server', 'strict']) {
      const d = report.hosts[host]!.counters.delta;
      expect(d['TcpExt.ListenOverflows']).toBeGreaterThan(0);
      expect(d['TcpExt.ListenDrops']).toBe(d['TcpExt.ListenOverflows']);
      // Tcp.PassiveOpens counts children made from a request socket (tcp_create_openreq_child), before it
      // is known which CPU owns the request: when a retransmitted final ACK and the client's data complete
      // the same handshake on two CPUs at once, the loser's child is counted and freed (req_stolen). Past
      // an overflow both are in flight, so the count may exceed the connections (seen once: 62 for 60);
      // the listener's accept() count is exact.
      expect(d['Tcp.PassiveOpens']).toBeGreaterThanOrEqual(CONNECTIONS);
    }
    // A start the flood missed on a busy machine (more than maxLateness behind its schedule) is never
    // made; every connection it did make was accepted.
    for (const [listener, flood] of [
      ['web', 'flood'],
      ['webstrict', 'flood-strict'],
    ] as const) {
      expect(report.actors[listener]!['accepted']).toBe(report.actors[flood]!['attempts']);
    }
    const client = report.hosts.client!;
    expect(client.peak.total.SYN_SENT).toBeGreaterThan(2 * (SOMAXCONN + 1));
    expect(client.counters.delta['TcpExt.TCPSynRetrans']).toBeGreaterThan(0);
  });

  it('makes clients wait, not fail: every connection is answered in the end', () => {
    for (const name of ['flood', 'flood-strict']) {
      const flood = report.actors[name]!;
      expect(Number(flood['attempts']) + Number(flood['missedStarts'])).toBe(CONNECTIONS);
      expect(flood['attempts']).toBeGreaterThan(CONNECTIONS / 2);
      expect(flood['ok']).toBe(flood['attempts']);
      expect(flood['errorCount']).toBe(0);
    }
  });

  it('reports what tcp_abort_on_overflow=1 did, from the RSTs it sent', () => {
    const rsts = report.hosts.strict!.counters.delta['Tcp.OutRsts'];
    const text = report.findings.join('\n');
    if (rsts === 0) expect(text).toMatch(/tcp_abort_on_overflow=1 on host strict sent no RST/);
    else expect(text).toMatch(/tcp_abort_on_overflow=1 on host strict answered overflowing handshakes with an RST/);
    expect(text).toMatch(/The accept queue of actor web on host server \(port 8080\) overflowed/);
    expect(report.thresholds.filter((t) => !t.ok)).toEqual([]);
  });
});
