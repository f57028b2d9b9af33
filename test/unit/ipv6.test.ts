// IPv6 in the lab: addresses printed one way (RFC 5952), lab addresses mapped from the IPv4 ones into 2001:2::/48,
// a plan's family, and the census's IPv6 peers from both of its sources.
import { describe, expect, it } from 'vitest';
import { canonicalIpv6, endpointText, formatIpv6, ipv6OfBytes, parseIpv6 } from '../../src/core/ipv6.ts';
import { defineScenario } from '../../src/core/scenario.ts';
import { addressInLabNetwork6, labAddress6Of, labSubnet6Of } from '../../src/plan/lab-addresses6.ts';
import { loadPlan, resolvePlan } from '../../src/plan/load-plan.ts';
import { PlanValidationError } from '../../src/core/errors.ts';
import { scanDiagRecords } from '../../src/sampler/netlink-rows.ts';
import { TcpCensusTaker } from '../../src/sampler/proc-net-tcp.ts';
import { SocketRowReader } from '../../src/sampler/socket-row-reader.ts';
import { takeCensus } from '../../src/watch/socket-census.ts';

describe('IPv6 text', () => {
  it('prints the canonical form: lower case, no leading zeros, the longest zero run as ::', () => {
    expect(canonicalIpv6('2001:0002:0000:0000:0000:0000:0000:0005')).toBe('2001:2::5');
    expect(canonicalIpv6('2001:DB8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(canonicalIpv6('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1'); // a single zero group stays
    expect(formatIpv6([0, 0, 0, 0, 0, 0, 0, 0])).toBe('::');
    expect(formatIpv6([0, 0, 0, 0, 0, 0, 0, 1])).toBe('::1');
  });

  it('refuses what is not one IPv6 address', () => {
    for (const bad of ['198.18.0.1', '2001:2::1::2', '::ffff:198.18.0.1', 'fe80::1%eth0', '2001:2::1; rm', '', 7])
      expect(parseIpv6(bad)).toBeUndefined();
  });

  it('writes endpoints as URLs and nginx do: [addr]:port for IPv6', () => {
    expect(endpointText('2001:2::2', 8080)).toBe('[2001:2::2]:8080');
    expect(endpointText('198.18.0.2', 8080)).toBe('198.18.0.2:8080');
    expect(ipv6OfBytes(Buffer.from('2001000200000000000000000000000a', 'hex'), 0)).toBe('2001:2::a');
  });
});

describe('IPv6 lab addresses', () => {
  it('maps 198.18.<k>.<n> to 2001:2:0:<k>::<n> and its /24 to a /64, all in 2001:2::/48', () => {
    expect(labAddress6Of('198.18.0.1')).toBe('2001:2::1');
    expect(labAddress6Of('198.18.1.254')).toBe('2001:2:0:1::fe');
    expect(labAddress6Of('198.19.255.3')).toBe('2001:2:0:1ff::3');
    expect(labSubnet6Of('198.18.2.0/24')).toBe('2001:2:0:2::/64');
    expect(addressInLabNetwork6('2001:2:0:1ff::3')).toBe(true);
    expect(addressInLabNetwork6('2001:2:1::1')).toBe(false);
    expect(addressInLabNetwork6('2001:db8::1')).toBe(false);
  });

  it('gives short-conn --set family=ipv6 IPv6 addresses only, and its server a listener on ::', async () => {
    const plan = await loadPlan('short-conn', { family: 'ipv6' });
    expect(plan.family).toBe('ipv6');
    expect(plan.hosts.client).toMatchObject({ address: '2001:2::1', prefixLength: 64 });
    expect(plan.hosts.client!.address6).toBeUndefined();
    expect(plan.actors.flood!.connect).toMatchObject({ address: '2001:2::2', port: 8080 });
    expect(plan.actors.web!.listenAddress).toBe('::');
    expect((await loadPlan('short-conn')).family).toBeUndefined();
  });

  it('gives a dual-stack gateway both families on every interface, IPv6 routes beside IPv4 ones, and IPv6 forwarding', () => {
    const spec = {
      family: 'dual' as const,
      networks: { lan: {}, wan: {} },
      hosts: {
        client: { networks: ['lan'], via: 'gw' },
        gw: { networks: ['lan', 'wan'], gateway: { masquerade: 'wan' } },
        server: { networks: ['wan'], via: 'gw' },
      },
      actors: {},
    };
    const plan = resolvePlan(
      defineScenario({ name: 'dual-gw', description: 'test', params: {}, build: () => spec }),
      'test',
      {},
    );
    expect(plan.networks!.wan).toEqual({ name: 'wan', subnet: '198.18.1.0/24', subnet6: '2001:2:0:1::/64' });
    expect(plan.hosts.gw!.interfaces!.map((i) => [i.address, i.address6])).toEqual([
      ['198.18.0.2', '2001:2::2'],
      ['198.18.1.1', '2001:2:0:1::1'],
    ]);
    expect(plan.hosts.gw!.gateway!.masquerade).toMatchObject({ address: '198.18.1.1', address6: '2001:2:0:1::1' });
    expect(plan.hosts.gw!.sysctls).toMatchObject({ 'net.ipv4.ip_forward': '1', 'net.ipv6.conf.all.forwarding': '1' });
    expect(plan.hosts.client!.routes).toEqual([
      { to: '198.18.1.0/24', via: '198.18.0.2' },
      { to: '2001:2:0:1::/64', via: '2001:2::2' },
    ]);
  });

  it('refuses a family it does not know', () => {
    const build = () => ({ family: 'ipx' as never, hosts: { a: {} }, actors: {} });
    expect(() =>
      resolvePlan(defineScenario({ name: 'bad-family', description: 'test', params: {}, build }), 'test', {}),
    ).toThrow(PlanValidationError);
  });
});

/** /proc/net/tcp6 prints each 32-bit word of an address in host order (little-endian here). */
function procWords(address: string): string {
  const bytes = Buffer.from(
    parseIpv6(address)!
      .map((g) => g.toString(16).padStart(4, '0'))
      .join(''),
    'hex',
  );
  let out = '';
  for (let w = 0; w < 16; w += 4) out += bytes.readUInt32LE(w).toString(16).toUpperCase().padStart(8, '0');
  return out;
}

const HEADER = '  sl  local_address                         remote_address                        st\n';
const procRow = (i: number, local: string, lport: number, remote: string, rport: number, state: number) =>
  `${String(i).padStart(4)}: ${procWords(local)}:${lport.toString(16).toUpperCase().padStart(4, '0')} ${procWords(remote)}:${rport.toString(16).toUpperCase().padStart(4, '0')} ${state.toString(16).toUpperCase().padStart(2, '0')} 00000000:00000000\n`;

describe('the census of IPv6 peers', () => {
  it('counts /proc/net/tcp6 peers: the ephemeral side by [addr]:port, the listening side by address', () => {
    const client =
      HEADER +
      procRow(0, '2001:2::1', 40000, '2001:2::2', 8080, 6) +
      procRow(1, '2001:2::1', 40001, '2001:2::2', 8080, 6) +
      procRow(2, '2001:2::1', 40002, '2001:2::2', 8080, 1);
    expect(new TcpCensusTaker().take([{ buf: Buffer.from(client), family: 6 }]).peers.ephemeral).toEqual({
      '[2001:2::2]:8080': { TIME_WAIT: 2, ESTABLISHED: 1 },
    });
    const server =
      HEADER + procRow(0, '2001:2::2', 8080, '::', 0, 10) + procRow(1, '2001:2::2', 8080, '2001:2::1', 40000, 1);
    expect(new TcpCensusTaker([8080]).take([{ buf: Buffer.from(server), family: 6 }]).peers.listen).toEqual({
      '2001:2::1': { ESTABLISHED: 1 },
    });
  });

  it('counts netlink peers alike', async () => {
    const SIZE = 72;
    const record = (state: number, lport: number, remote: string, rport: number) => {
      const b = Buffer.alloc(SIZE);
      b[0] = 10;
      b[1] = state;
      b.writeUInt16BE(lport, 4);
      b.writeUInt16BE(rport, 6);
      Buffer.from(
        parseIpv6('2001:2::1')!
          .map((g) => g.toString(16).padStart(4, '0'))
          .join(''),
        'hex',
      ).copy(b, 8);
      Buffer.from(
        parseIpv6(remote)!
          .map((g) => g.toString(16).padStart(4, '0'))
          .join(''),
        'hex',
      ).copy(b, 24);
      return b;
    };
    const records = [record(6, 40000, '2001:2:0:1::2', 80), record(6, 40000, '2001:2::2', 8080)];
    const census = await new TcpCensusTaker().takeFrom({
      scan: async (onRow) => scanDiagRecords(Buffer.concat(records), records.length, SIZE, onRow),
    });
    expect(census.peers.ephemeral).toEqual({
      '[2001:2:0:1::2]:80': { TIME_WAIT: 1 },
      '[2001:2::2]:8080': { TIME_WAIT: 1 },
    });
  });

  it('gives watch and doctor one port budget per IPv6 destination, beside IPv4 ones', () => {
    const tcp6 =
      HEADER +
      procRow(0, '2001:2::1', 40000, '2001:2::2', 8080, 6) +
      procRow(1, '2001:2::1', 40001, '2001:2::2', 8080, 6) +
      procRow(2, '2001:2::1', 40000, '2001:2::3', 8080, 6);
    const census = takeCensus(new SocketRowReader().collect([{ buf: Buffer.from(tcp6), family: 6 }]), {
      lo: 40000,
      hi: 40999,
    });
    expect(census.destinations.map((d) => [d.destination, d.ports])).toEqual([
      ['[2001:2::2]:8080', 2],
      ['[2001:2::3]:8080', 1],
    ]);
  });
});
