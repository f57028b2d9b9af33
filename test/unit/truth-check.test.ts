// The checker on claims: each case a claim that real runs' sentences once made against their own evidence (quoted
// in the comments), now written as the claim it was, and caught by re-deriving its value or by what no true claim
// can do. And every fixture's findings, as the rules make them now, pass.
import { describe, expect, it } from 'vitest';
import type { Claim, EvidenceRef, FindingClaims } from '../../src/report/claims/claim.ts';
import { findingsWithClaims } from '../../src/report/findings/index.ts';
import type { Report } from '../../src/report/report.ts';
import { contradictions } from '../../src/report/truth-check.ts';
import { host, loadReportFixture, reportFixtureNames } from './fixture.ts';

type Spec = Omit<Claim, 'bound' | 'derive'> & Partial<Pick<Claim, 'bound' | 'derive'>>;

/** The fixture's report with one finding that makes these claims, instead of its own. */
function claiming(name: string, host: string, peers: string[], ...claims: Spec[]): Report {
  const finding: FindingClaims = {
    finding: 0,
    rule: 'test',
    host,
    peers,
    claims: claims.map((c) => ({ bound: 'exact', derive: 'sum', ...c })),
  };
  return { ...loadReportFixture(name), findings: ['(the claims below)'], claims: [finding] };
}

const evidence = (report: Report) => contradictions(report).map((c) => c.evidence);
const counters = (h: string): EvidenceRef[] =>
  ['TcpExt.TW', 'TcpExt.TWKilled', 'TcpExt.TCPTimeWaitOverflow'].map((counter) => ({
    from: 'counter',
    host: h,
    counter,
  }));

describe('contradictions()', () => {
  it('a) a listener host said to close first as the client side, a TIME_WAIT census above sockstat tw, and parts that do not add up', () => {
    // "TIME_WAIT piled up on host server: peak 201 (201 on ephemeral ports, 153 on ports it listens on) ... Host server closed these connections first, as their client side"
    const report = claiming(
      'address-in-use-restart',
      'server',
      [],
      {
        name: 'timeWaitPeak',
        value: 201,
        unit: 'sockets',
        plus: [{ from: 'host-peak', host: 'server', state: 'TIME_WAIT' }],
        peers: [],
      },
      {
        name: 'timeWaitOnOwnPorts',
        value: 201,
        unit: 'sockets',
        plus: [{ from: 'host-peak', host: 'server', state: 'TIME_WAIT' }],
        peers: [],
      },
      {
        name: 'timeWaitOnListenPorts',
        value: 153,
        unit: 'sockets',
        plus: [{ from: 'port-budget', host: 'server', ports: 153 }],
        peers: [],
      },
      {
        name: 'firstCloses',
        value: host(loadReportFixture('address-in-use-restart'), 'server').counters.delta['TcpExt.TW']!,
        unit: 'connections',
        plus: counters('server'),
        peers: ['client'],
        end: 'client',
      },
    );
    const found = evidence(report);
    expect(found).toContain(
      "the kernel's own count (sockstat tw, timewait minisockets included) peaked at 200: no census of the same sockets holds more",
    );
    expect(found).toContain(
      "host server opened no connection (Tcp.ActiveOpens +0), so it was no connection's client side",
    );
    expect(found).toContain('its parts 201 + 153 = 354, not 201');
  });

  it('b) NAT: TIME_WAIT from a client looked up under its own address, which the server never saw', () => {
    // "Host c1 (actor from-c1) made 296 connections ... and left at most 0 TIME_WAIT here"
    const report = claiming('nat-single-source', 'server', ['c1'], {
      name: 'peerTimeWait',
      value: 0,
      unit: 'sockets',
      plus: [{ from: 'peer-peak', host: 'server', role: 'listen', peer: '198.18.0.2', state: 'TIME_WAIT' }],
      end: 'server',
    });
    expect(evidence(report)).toEqual([
      "host server's census lists host c1 under 198.18.1.1 (through gateway gw), not under 198.18.0.2",
    ]);
  });

  it("c) fixed local port: a client that closed first itself (TcpExt.TW +30 on its host) claimed as the server's first closes", () => {
    const report = claiming('fixed-local-port', 'server', ['noreuse'], {
      name: 'firstCloses',
      value: 30,
      unit: 'connections',
      plus: [
        {
          from: 'peer-peak',
          host: 'server',
          role: 'listen',
          peer: host(loadReportFixture('fixed-local-port'), 'noreuse').address,
          state: 'TIME_WAIT',
        },
      ],
      end: 'server',
    });
    expect(evidence(report)).toContain('its evidence gives 0');
  });

  it('d) "The proxy closed these connections first" against TcpExt.TW +1,184 on the backend and +880 on the proxy', () => {
    const report = claiming('proxy-short-upstream--backend-closer-server', 'proxy', ['backend1'], {
      name: 'firstCloseShare',
      value: 1,
      unit: 'share',
      derive: 'ratio',
      plus: counters('proxy'),
      minus: [...counters('proxy'), ...counters('backend1')],
      end: 'client',
    });
    expect(evidence(report)).toEqual([`its evidence gives ${(880 / 2064).toLocaleString('en-US')}`]);
  });

  it('e) 100.5% of a 1,000-port range', () => {
    const report = claiming('proxy-short-upstream', 'proxy', ['backend1'], {
      name: 'portShare',
      value: 1.005,
      unit: 'share',
      derive: 'ratio',
      plus: [{ from: 'peer-peak', host: 'proxy', role: 'ephemeral', peer: '198.18.0.3:8080', state: 'TIME_WAIT' }],
      minus: [{ from: 'port-budget', host: 'proxy', ports: 1000 }],
    });
    expect(evidence(report)).toEqual(['no range holds more than all its ports, nor less than none']);
  });

  it('defect 1: ports said to be held by TIME_WAIT where every TIME_WAIT peak was 0, and peers said to close first where none did, or none where they did', () => {
    const held = claiming('short-conn--held-open', 'client', ['server'], {
      name: 'peerStatePeak',
      of: 'TIME_WAIT',
      value: 200,
      unit: 'sockets',
      plus: [{ from: 'peer-peak', host: 'client', role: 'ephemeral', peer: '198.18.0.2:8080', state: 'TIME_WAIT' }],
    });
    expect(evidence(held)).toContain('its evidence gives 0');
    const peers = claiming('haproxy-keepalive-upstream', 'backend1', ['proxy'], {
      name: 'firstCloses',
      value: 6,
      unit: 'connections',
      plus: counters('proxy'),
      end: 'client',
    });
    expect(evidence(peers)).toEqual(['its evidence gives 0']);
    const nobody = claiming('short-conn', 'server', ['client'], {
      name: 'firstCloses',
      value: 0,
      unit: 'connections',
      plus: counters('client'),
      end: 'client',
    });
    expect(evidence(nobody)).toEqual(['its evidence gives 1,000']);
  });

  it('a finding without claims is a contradiction: nothing it says can be checked', () => {
    const report = {
      ...loadReportFixture('short-conn'),
      findings: ['Every local port toward 198.18.0.2:8080 was held by a socket in TIME_WAIT on host client.'],
      claims: [],
    };
    expect(evidence(report)).toEqual([
      'the finding carries no claims: none of its numbers can be checked against the evidence',
    ]);
  });

  it('accepts the claims the rules make where the evidence holds them up, and not once one number of the evidence changes', () => {
    const report = loadReportFixture('short-conn');
    expect(contradictions({ ...report, ...findingsWithClaims(report.scenario.plan, report) })).toEqual([]);
    const made = findingsWithClaims(report.scenario.plan, report);
    host(report, 'client').peak.peers.ephemeral['198.18.0.2:8080']!.TIME_WAIT = 899;
    expect(contradictions({ ...report, ...made }).map((c) => c.evidence)).toContain('its evidence gives 899');
  });

  it.each(reportFixtureNames())('%s: every claim of every finding findings() makes now passes', (name) => {
    const report = loadReportFixture(name);
    const now = findingsWithClaims(report.scenario.plan, report);
    expect(now.findings.length).toBeGreaterThan(0);
    expect(now.claims.every((f) => f.claims.length > 0)).toBe(true);
    expect(contradictions({ ...report, ...now })).toEqual([]);
  });
});
