// The requests the native configurator sends are the ones `ip` sends for the same commands: the expected bytes are
// what strace showed iproute2 6.1.0 send (`strace -e sendmsg -xx ip -n NS ...`), with nlmsg_seq and nlmsg_pid zeroed
// (the sender fills them) and, for an address, the interface index left for the configurator to find in the namespace.
import { describe, expect, it } from 'vitest';
import { rtnetlinkRequest } from '../../../src/lab/rtnetlink-request.ts';

/** nlmsghdr (len, type, flags; seq and pid 0) followed by the payload, little-endian as on x86. */
function expected(type: number, flags: number, payload: string): string {
  const body = Buffer.from(payload.replaceAll('\\x', ''), 'hex');
  const header = Buffer.alloc(16);
  header.writeUInt32LE(16 + body.length, 0);
  header.writeUInt16LE(type, 4);
  header.writeUInt16LE(flags, 6);
  return Buffer.concat([header, body]).toString('hex');
}

describe('rtnetlink requests of a lab host', () => {
  // The command, the interface whose index the configurator fills in, the message type, and what ip sent after the header.
  it.each([
    [
      'an IPv4 address (RTM_NEWADDR, create|excl, IFA_LOCAL then IFA_ADDRESS)',
      ['addr', 'add', '198.18.0.5/24', 'dev', 'eth0'],
      'eth0',
      0x14,
      '\\x02\\x18\\x00\\x00\\x00\\x00\\x00\\x00\\x08\\x00\\x02\\x00\\xc6\\x12\\x00\\x05\\x08\\x00\\x01\\x00\\xc6\\x12\\x00\\x05',
    ],
    [
      'an IPv6 address with nodad (IFA_F_NODAD in ifa_flags)',
      ['addr', 'add', '2001:2::5/64', 'nodad', 'dev', 'eth1'],
      'eth1',
      0x14,
      '\\x0a\\x40\\x02\\x00\\x00\\x00\\x00\\x00\\x14\\x00\\x02\\x00\\x20\\x01\\x00\\x02\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x05\\x14\\x00\\x01\\x00\\x20\\x01\\x00\\x02\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x05',
    ],
    [
      'a route through a gateway in the main table, proto boot (RTA_DST then RTA_GATEWAY)',
      ['route', 'add', '198.18.1.0/24', 'via', '198.18.0.1'],
      '',
      0x18,
      '\\x02\\x18\\x00\\x00\\xfe\\x03\\x00\\x01\\x00\\x00\\x00\\x00\\x08\\x00\\x01\\x00\\xc6\\x12\\x01\\x00\\x08\\x00\\x05\\x00\\xc6\\x12\\x00\\x01',
    ],
  ])('adds %s as ip does', (_what, command, device, type, payload) => {
    const r = rtnetlinkRequest(command);
    expect(r.device).toBe(device);
    expect(r.message.toString('hex')).toBe(expected(type, 0x605, payload));
  });

  it('adds an IPv6 route with its family, prefix and gateway', () => {
    const v6 = rtnetlinkRequest(['route', 'add', '2001:2:0:1::/64', 'via', '2001:2::1']).message;
    expect(v6.subarray(16, 24).toString('hex')).toBe('0a400000fe030001');
    expect(v6.subarray(32, 48).toString('hex')).toBe('20010002000000010000000000000000');
    expect(v6.subarray(52, 68).toString('hex')).toBe('20010002000000000000000000000001');
  });

  it('brings a link up by its name (ip looks the index up first; the kernel finds it by IFLA_IFNAME)', () => {
    const r = rtnetlinkRequest(['link', 'set', 'lo', 'up']);
    expect(r.device).toBe('');
    // ifinfomsg with index 0 and IFF_UP in flags and change, then IFLA_IFNAME "lo\0" padded to 4 bytes.
    expect(r.message.toString('hex')).toBe(
      expected(
        0x10,
        0x5,
        '\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x01\\x00\\x00\\x00\\x01\\x00\\x00\\x00\\x07\\x00\\x03\\x00\\x6c\\x6f\\x00\\x00',
      ),
    );
  });

  it('reads IPv6 text in every form isIP accepts, to the same 16 bytes', () => {
    const bytes = (a: string) =>
      rtnetlinkRequest(['addr', 'add', `${a}/64`, 'nodad', 'dev', 'eth0'])
        .message.subarray(28, 44)
        .toString('hex');
    expect(bytes('2001:2::')).toBe('20010002000000000000000000000000');
    expect(bytes('::1')).toBe('00000000000000000000000000000001');
    expect(bytes('2001:2:0:0:0:0:0:ff')).toBe('200100020000000000000000000000ff');
    expect(bytes('::ffff:198.18.0.1')).toBe('00000000000000000000ffffc6120001');
  });

  it('refuses any command, word or value the lab does not make', () => {
    for (const command of [
      ['link', 'set', 'eth0', 'down'],
      ['addr', 'add', '198.18.0.1/33', 'dev', 'eth0'],
      ['addr', 'add', '198.18.0.1', 'dev', 'eth0'],
      ['addr', 'add', 'fe80::1%eth0/64', 'dev', 'eth0'],
      ['addr', 'add', '198.18.0.1/24', 'dev', 'eth0 up'],
      ['addr', 'add', '198.18.0.1/24', 'dev', 'ETH0'],
      ['route', 'add', '198.18.1.0/24', 'via', '2001:2::1'],
      ['route', 'add', '198.18.1.0/24 dev lo', 'via', '198.18.0.1'],
      ['netns', 'add', 'x'],
    ])
      expect(() => rtnetlinkRequest(command), command.join(' ')).toThrow();
  });
});
