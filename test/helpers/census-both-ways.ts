// Inside a lab host: a known population of sockets (listeners on IPv4 and on :: taking IPv4-mapped and IPv6
// clients, held connections, client-closed ones in TIME_WAIT, half-closed ones in FIN_WAIT2 / CLOSE_WAIT), then
// the census counted in C, in JavaScript over the same netlink rows, and in JavaScript over /proc/net/tcp,
// printed as JSON. Port 8080 is the planned server port; 9000 and 9100 are server ports only by being seen listening.
import net from 'node:net';
import { NetlinkRows } from '../../src/sampler/netlink-rows.ts';
import { CensusCounter } from '../../src/sampler/census-counter.ts';
import { FallbackRows } from '../../src/sampler/census-source.ts';
import { NativeCensus } from '../../src/sampler/native-census.ts';
import { ProcRows } from '../../src/sampler/proc-rows.ts';
import { TcpCensusTaker } from '../../src/sampler/proc-net-tcp.ts';
import { SockDiagSocket } from '../../src/sampler/sock-diag.ts';

const PLANNED = [8080];
const held: net.Socket[] = [];

const listen = (
  host: string,
  port: number,
  options: net.ServerOpts = {},
  onConn: (s: net.Socket) => void = (s) => void held.push(s),
) =>
  new Promise<net.Server>((resolve) => {
    const server = net.createServer(options, onConn);
    server.listen(port, host, () => resolve(server));
  });
const connect = (host: string, port: number) =>
  new Promise<net.Socket>((resolve, reject) => {
    const c = net.connect({ host, port }, () => resolve(c));
    c.on('error', reject);
  });

await listen('127.0.0.1', 8080, {}, (s) => {
  held.push(s);
  // The client's FIN is answered at once: a client-closed connection leaves TIME_WAIT on the client only.
  s.on('end', () => s.end()).resume();
});
await listen('::', 9000);
// allowHalfOpen and never end(): the server side stays in CLOSE_WAIT, the client's (fd still open) in FIN_WAIT2.
await listen('127.0.0.2', 9100, { allowHalfOpen: true }, (s) => void held.push(s.resume()));

for (let i = 0; i < 30; i++) held.push(await connect('127.0.0.1', 8080));
for (let i = 0; i < 20; i++) {
  const c = await connect('127.0.0.1', 8080);
  await new Promise<void>((resolve) =>
    c
      .on('close', () => resolve())
      .resume()
      .end(),
  );
}
for (let i = 0; i < 10; i++) held.push(await connect('127.0.0.1', 9000));
for (let i = 0; i < 7; i++) {
  const c = await connect('127.0.0.2', 9100);
  c.on('end', () => undefined).resume();
  c.end();
  held.push(c);
}
// Let the last FINs and ACKs land: every state above is one that stays (TIME_WAIT for 60 s).
await new Promise((r) => setTimeout(r, 300));

const native = NativeCensus.open(PLANNED);
const socket = SockDiagSocket.open();
const ipv4Peers = {
  c: await native.take(),
  js: await new TcpCensusTaker(PLANNED).takeFrom(new NetlinkRows(socket)),
  proc: await new TcpCensusTaker(PLANNED).takeFrom(new ProcRows()),
  cAgain: await native.take(),
};
// The addon's own CPU time for one census: some, and no more than the time from the call to its answer.
const calledAt = performance.now();
await native.take();
const cost = { cpuMs: native.lastCpuMs, wallMs: performance.now() - calledAt };
// Then IPv6 peers, which the C census does not count by peer: it refuses, and the sampler's counter counts in JavaScript.
for (let i = 0; i < 5; i++) held.push(await connect('::1', 9000));
await new Promise((r) => setTimeout(r, 100));
const refused = await native.take().then(
  () => null,
  (err: NodeJS.ErrnoException) => ({ code: err.code, message: err.message }),
);
const counter = new CensusCounter(PLANNED);
const counted = await counter.take(await FallbackRows.open());
const withIpv6 = {
  js: await new TcpCensusTaker(PLANNED).takeFrom(new NetlinkRows(socket)),
  counted: counted.census,
  counting: counter.counting,
  refusedBecause: counter.nativeRefused,
};
native.close();
socket.close();
process.stdout.write(`${JSON.stringify({ ...ipv4Peers, cost, refused, withIpv6 })}\n`);
process.exit(0);
