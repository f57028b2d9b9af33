// The rtnetlink request that `ip` sends for each command a lab host is configured with (netns-batches.ts), so the
// native configurator (native/netns_config.c) can send it from a thread inside the host's namespace instead of
// starting an `ip` process per host. Only the commands the lab makes are known: `link set DEV up`,
// `addr add ADDR/LEN [nodad] dev DEV`, `route add NET/LEN via ADDR`; every word is parsed into its type again here
// (the messages are sent as root). Field values follow iproute2's own (ipaddress.c ipaddr_modify, iproute.c
// iproute_modify, iplink.c iplink_modify), so the kernel ends up with the same addresses and routes.
import { isIP } from 'node:net';
import { endianness } from 'node:os';
import { WaitlabError } from '../core/errors.ts';
import type { IpCommand } from './ip-batch.ts';

// linux/netlink.h, linux/rtnetlink.h, linux/if.h, linux/if_addr.h
const NLMSG_HDRLEN = 16;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
const RTM_NEWLINK = 16;
const RTM_NEWADDR = 20;
const RTM_NEWROUTE = 24;
const IFF_UP = 0x1;
const IFLA_IFNAME = 3;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_F_NODAD = 0x02;
const RTA_DST = 1;
const RTA_GATEWAY = 5;
const RT_TABLE_MAIN = 254;
// `ip route add` marks its routes "proto boot" unless told otherwise.
const RTPROT_BOOT = 3;
const RT_SCOPE_UNIVERSE = 0;
const RTN_UNICAST = 1;
const AF_UNSPEC = 0;
const AF_INET = 2;
const AF_INET6 = 10;

// Netlink headers and attributes are in the machine's own byte order.
const LITTLE = endianness() === 'LE';
const DEVICE = /^[a-z][a-z0-9]{0,14}$/;

/** One request: the message, and the interface whose index an RTM_NEWADDR takes (found inside the namespace). */
export interface RtnetlinkRequest {
  readonly message: Buffer;
  /** '' when the message names its interface itself (by IFLA_IFNAME) or needs none. */
  readonly device: string;
}

const align4 = (n: number) => (n + 3) & ~3;

function attribute(type: number, data: Buffer): Buffer {
  const out = Buffer.alloc(align4(4 + data.length));
  const view = new DataView(out.buffer, out.byteOffset, out.length);
  view.setUint16(0, 4 + data.length, LITTLE);
  view.setUint16(2, type, LITTLE);
  data.copy(out, 4);
  return out;
}

function message(type: number, flags: number, header: Buffer, attributes: readonly Buffer[]): Buffer {
  const body = Buffer.concat([header, Buffer.alloc(align4(header.length) - header.length), ...attributes]);
  const out = Buffer.alloc(NLMSG_HDRLEN + body.length);
  const view = new DataView(out.buffer, out.byteOffset, out.length);
  view.setUint32(0, out.length, LITTLE);
  view.setUint16(4, type, LITTLE);
  view.setUint16(6, flags | NLM_F_REQUEST | NLM_F_ACK, LITTLE);
  // nlmsg_seq and nlmsg_pid (bytes 8-15) are the sender's to fill.
  body.copy(out, NLMSG_HDRLEN);
  return out;
}

function device(word: string | undefined): string {
  if (word === undefined || !DEVICE.test(word))
    throw new WaitlabError(`not an interface name waitlab makes: ${JSON.stringify(word)}`);
  return word;
}

/** An address's bytes and family, from its text (IPv4 dotted quad or IPv6). */
function addressBytes(text: string | undefined): { family: number; bytes: Buffer } {
  const version = text === undefined ? 0 : isIP(text);
  if (version === 4) return { family: AF_INET, bytes: Buffer.from(text!.split('.').map(Number)) };
  // A zone (fe80::1%eth0) is no part of an address the lab gives.
  if (version === 6 && !text!.includes('%')) return { family: AF_INET6, bytes: ipv6Bytes(text!) };
  throw new WaitlabError(`not an IP address: ${JSON.stringify(text)}`);
}

function ipv6Bytes(text: string): Buffer {
  // isIP has accepted it: at most one '::', hex groups, or a trailing dotted quad.
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const words = (part: string[]) =>
    part.flatMap((g) => {
      if (!g.includes('.')) return [Number.parseInt(g, 16)];
      const [a, b, c, d] = g.split('.').map(Number);
      return [(a! << 8) | b!, (c! << 8) | d!];
    });
  const left = words(groups(head));
  const right = words(groups(tail));
  const all = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
  const out = Buffer.alloc(16);
  all.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

function prefixed(text: string | undefined): { family: number; bytes: Buffer; length: number } {
  const [addr, len, extra] = (text ?? '').split('/');
  const parsed = addressBytes(addr);
  const width = parsed.family === AF_INET ? 32 : 128;
  if (len === undefined || extra !== undefined || !/^\d+$/.test(len) || Number(len) > width)
    throw new WaitlabError(`not an address/prefix: ${JSON.stringify(text)}`);
  return { ...parsed, length: Number(len) };
}

function linkUp(dev: string): RtnetlinkRequest {
  // ifinfomsg: family, pad, type, index 0 (the kernel finds the link by IFLA_IFNAME), flags, change.
  const ifinfo = Buffer.alloc(16);
  const view = new DataView(ifinfo.buffer, ifinfo.byteOffset, ifinfo.length);
  view.setUint8(0, AF_UNSPEC);
  view.setUint32(8, IFF_UP, LITTLE);
  view.setUint32(12, IFF_UP, LITTLE);
  const name = Buffer.from(`${dev}\0`, 'ascii');
  return { message: message(RTM_NEWLINK, 0, ifinfo, [attribute(IFLA_IFNAME, name)]), device: '' };
}

function addressAdd(cidr: string | undefined, nodad: boolean, dev: string): RtnetlinkRequest {
  const a = prefixed(cidr);
  // ifaddrmsg: family, prefixlen, flags, scope (global, as ip gives any address outside 127/8), index (filled in
  // inside the namespace from `device`).
  const ifaddr = Buffer.from([a.family, a.length, nodad ? IFA_F_NODAD : 0, 0, 0, 0, 0, 0]);
  return {
    message: message(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifaddr, [
      attribute(IFA_LOCAL, a.bytes),
      attribute(IFA_ADDRESS, a.bytes),
    ]),
    device: dev,
  };
}

function routeAdd(network: string | undefined, via: string | undefined): RtnetlinkRequest {
  const to = prefixed(network);
  const gateway = addressBytes(via);
  if (gateway.family !== to.family)
    throw new WaitlabError(`route to ${network} via ${via}: the gateway is not of the network's family`);
  const rtmsg = Buffer.from([to.family, to.length, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RTN_UNICAST]);
  return {
    message: message(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, Buffer.concat([rtmsg, Buffer.alloc(4)]), [
      attribute(RTA_DST, to.bytes),
      attribute(RTA_GATEWAY, gateway.bytes),
    ]),
    device: '',
  };
}

/** The request `ip` would send for `command`; throws for a command the lab does not make. */
export function rtnetlinkRequest(command: IpCommand): RtnetlinkRequest {
  if (!command.every((word) => /^\S+$/.test(word)))
    throw new WaitlabError(`not a command a lab host is configured with: ${JSON.stringify(command)}`);
  const words = command.join(' ');
  if (/^link set \S+ up$/.test(words)) return linkUp(device(command[2]));
  if (/^addr add \S+ dev \S+$/.test(words)) return addressAdd(command[2], false, device(command[4]));
  if (/^addr add \S+ nodad dev \S+$/.test(words)) return addressAdd(command[2], true, device(command[5]));
  if (/^route add \S+ via \S+$/.test(words)) return routeAdd(command[2], command[4]);
  throw new WaitlabError(`not a command a lab host is configured with: ip ${words}`);
}
