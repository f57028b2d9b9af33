// The commands a netns lab is built from, grouped by namespace: each host's end of a veth is made straight in
// its namespace, and nothing that is not a plain word reaches an `ip -batch` line.
import { describe, expect, it } from 'vitest';
import type { HostPlan } from '../../../src/core/plan.ts';
import { failedLine, ipBatch } from '../../../src/lab/ip-batch.ts';
import { netnsBatches } from '../../../src/lab/netns-batches.ts';

const host = (name: string, address: string, extra: Partial<HostPlan> = {}): HostPlan => ({
  name,
  address,
  prefixLength: 24,
  sysctls: {},
  ...extra,
});

describe('netns batches', () => {
  it("puts namespaces, bridges with veths, and each host's own setup in their own namespace", () => {
    const b = netnsBatches('wl1n0-bridge', new Map([['lab', 'br0']]), [
      { namespace: 'wl1n0-client', plan: host('client', '198.18.0.1') },
      { namespace: 'wl1n0-server', plan: host('server', '198.18.0.2') },
    ]);
    expect(b.bridgeNamespace).toEqual([['netns', 'add', 'wl1n0-bridge']]);
    expect(b.hostNamespaces).toEqual([
      ['netns', 'add', 'wl1n0-client'],
      ['netns', 'add', 'wl1n0-server'],
    ]);
    expect(b.bridge).toEqual([
      ['link', 'add', 'br0', 'type', 'bridge'],
      ['link', 'set', 'br0', 'up'],
      ['link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', 'wl1n0-client'],
      ['link', 'set', 'p0', 'master', 'br0', 'up'],
      ['link', 'add', 'p1', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', 'wl1n0-server'],
      ['link', 'set', 'p1', 'master', 'br0', 'up'],
    ]);
    expect(b.hosts.get('wl1n0-server')).toEqual([
      ['link', 'set', 'lo', 'up'],
      ['addr', 'add', '198.18.0.2/24', 'dev', 'eth0'],
      ['link', 'set', 'eth0', 'up'],
    ]);
  });

  it('gives a host one veth per network and its routes through the gateway', () => {
    const bridges = new Map([
      ['lan', 'br0'],
      ['wan', 'br1'],
    ]);
    const gw = host('gw', '198.18.0.1', {
      interfaces: [
        { network: 'lan', dev: 'eth0', address: '198.18.0.1', prefixLength: 24 },
        { network: 'wan', dev: 'eth1', address: '198.18.1.1', prefixLength: 24 },
      ],
    });
    const client = host('c', '198.18.0.2', {
      interfaces: [{ network: 'lan', dev: 'eth0', address: '198.18.0.2', prefixLength: 24 }],
      routes: [{ to: '198.18.1.0/24', via: '198.18.0.1' }],
    });
    const b = netnsBatches('wl1n0-bridge', bridges, [
      { namespace: 'wl1n0-gw', plan: gw },
      { namespace: 'wl1n0-c', plan: client },
    ]);
    expect(b.bridge.filter((c) => c.includes('master'))).toEqual([
      ['link', 'set', 'p0', 'master', 'br0', 'up'],
      ['link', 'set', 'p1', 'master', 'br1', 'up'],
      ['link', 'set', 'p2', 'master', 'br0', 'up'],
    ]);
    expect(b.hosts.get('wl1n0-c')).toContainEqual(['route', 'add', '198.18.1.0/24', 'via', '198.18.0.1']);
    expect(b.hosts.get('wl1n0-gw')).toContainEqual(['addr', 'add', '198.18.1.1/24', 'dev', 'eth1']);
  });

  it('refuses a value that is not what its place takes, before any command runs', () => {
    const one =
      (plan: HostPlan, ns = 'wl1n0-h') =>
      () =>
        netnsBatches('wl1n0-bridge', new Map([['lab', 'br0']]), [{ namespace: ns, plan }]);
    expect(one(host('h', '198.18.0.1\nnetns add x'))).toThrow(/refusing interface address/);
    expect(one(host('h', '198.18.0.1', { prefixLength: 33 }))).toThrow(/refusing interface address/);
    expect(one(host('h', '198.18.0.1'), '../../etc')).toThrow(/not a lab namespace name/);
    expect(one(host('h', '198.18.0.1', { routes: [{ to: '198.18.1.0/24 dev lo', via: '198.18.0.1' }] }))).toThrow(
      /not an IP address|not a network/,
    );
    expect(
      one(
        host('h', '198.18.0.1', {
          interfaces: [{ network: 'lab', dev: 'eth0 up', address: '198.18.0.1', prefixLength: 24 }],
        }),
      ),
    ).toThrow(/not an interface name/);
    expect(
      one(
        host('h', '198.18.0.1', {
          interfaces: [{ network: 'wan', dev: 'eth0', address: '198.18.0.1', prefixLength: 24 }],
        }),
      ),
    ).toThrow(/network wan, which the lab does not have/);
  });
});

describe('ip batch', () => {
  it('refuses a word that ip would split, quote or comment, without starting ip', async () => {
    for (const word of ['a b', 'a\nb', '"x"', "'x'", 'x#y', 'a\\b', '']) {
      await expect(ipBatch([['link', 'set', word, 'up']])).rejects.toThrow(/not plain/);
    }
  });

  it("reads the failed command's line from ip's stderr", () => {
    expect(failedLine('Cannot find device "eth9"\nCommand failed -:4\n')).toBe(4);
    expect(failedLine('RTNETLINK answers: File exists\n')).toBeUndefined();
  });
});
