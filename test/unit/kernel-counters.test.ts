import { describe, expect, it } from 'vitest';
import { counterDelta, parseCounterPairs, parseSockstat } from '../../src/sampler/kernel-counters.ts';

describe('kernel counters', () => {
  it('parses name/value line pairs of the wanted prefixes only', () => {
    const text = 'Tcp: RtoAlgorithm ActiveOpens CurrEstab\nTcp: 1 42 3\nUdp: InDatagrams\nUdp: 9\n';
    expect(parseCounterPairs(text, ['Tcp'])).toEqual({
      'Tcp.RtoAlgorithm': 1,
      'Tcp.ActiveOpens': 42,
      'Tcp.CurrEstab': 3,
    });
  });

  it('with a set of keys, parses only those, the same on every read of the same header', () => {
    const text = 'TcpExt: TW TWKilled PruneCalled\nTcpExt: 7 0 3\nIpExt: InNoRoutes\nIpExt: 1\n';
    const only = new Set(['TcpExt.TW', 'TcpExt.PruneCalled', 'IpExt.InNoRoutes']);
    expect(parseCounterPairs(text, ['TcpExt'], only)).toEqual({ 'TcpExt.TW': 7, 'TcpExt.PruneCalled': 3 });
    const later = text.replace('TcpExt: 7 0 3', 'TcpExt: 9 1 4');
    expect(parseCounterPairs(later, ['TcpExt'], only)).toEqual({ 'TcpExt.TW': 9, 'TcpExt.PruneCalled': 4 });
    // Another set, and none, on the same header: each gets its own keys.
    expect(parseCounterPairs(later, ['TcpExt'], new Set(['TcpExt.TWKilled']))).toEqual({ 'TcpExt.TWKilled': 1 });
    expect(parseCounterPairs(later, ['TcpExt', 'IpExt'])).toEqual({
      'TcpExt.TW': 9,
      'TcpExt.TWKilled': 1,
      'TcpExt.PruneCalled': 4,
      'IpExt.InNoRoutes': 1,
    });
    // A values line that does not belong to its header is not read.
    expect(parseCounterPairs('TcpExt: TW\nIpExt: 5\n', ['TcpExt'])).toEqual({});
  });

  it('reports key counters always, other counters when they moved, gauges never', () => {
    const d = counterDelta(
      { 'Tcp.ActiveOpens': 10, 'Tcp.CurrEstab': 5, 'TcpExt.TCPPureAcks': 1 },
      { 'Tcp.ActiveOpens': 15, 'Tcp.CurrEstab': 9, 'TcpExt.TCPPureAcks': 4 },
    );
    expect(d['Tcp.ActiveOpens']).toBe(5);
    expect(d['TcpExt.TCPTimeWaitOverflow']).toBe(0);
    expect(d['TcpExt.TCPPureAcks']).toBe(3);
    expect(d).not.toHaveProperty('Tcp.CurrEstab');
  });

  it('reads the TCP line of sockstat', () => {
    const s = parseSockstat('sockets: used 5\nTCP: inuse 3 orphan 1 tw 1000 alloc 4 mem 2\nUDP: inuse 0 mem 0\n');
    expect(s).toEqual({ inuse: 3, orphan: 1, tw: 1000, alloc: 4, mem: 2 });
  });
});
