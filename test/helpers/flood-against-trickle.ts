// Inside a lab host: a raw server on loopback that never finishes a response (one byte every 100 ms, so no idle
// timeout fires), and a short-conn-client flood against it, closed model. Once the flood's load is done, reads the
// namespace's TCP table: the flood's sockets toward the server that still have a file (inode not 0) are ones it left
// open; the sockets it closed are orphans (inode 0) or gone. Then waits for the server's sockets to close, and counts
// those that saw the client's FIN before they closed (an RST ends one with no FIN). Prints {ended, stats, accepted,
// openToServer, rowsToServer, serverSawFin} as JSON. Arguments: engine, concurrency, duration in ms, closeStyle.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { actorKind } from '../../src/actors/registry.ts';
import { resolveFields } from '../../src/core/fields.ts';
import { scanProcNetTcp } from '../../src/sampler/proc-net-tcp.ts';
import { stateName } from '../../src/sampler/tcp-states.ts';

const TRICKLE_EVERY_MS = 100;
// Bounds the wait for a flood that never ends (the defect this helper shows): far past any load it is given.
const GUARD_MS = 15_000;

const [engine, concurrency, durationMs] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4])];
const closeStyle = process.argv[5] ?? 'graceful';

const serverSockets = new Set<net.Socket>();
let accepted = 0;
let serverSawFin = 0;
let allClosed: () => void = () => undefined;
const server = net.createServer((sock) => {
  accepted++;
  serverSockets.add(sock);
  const trickle = setInterval(() => sock.write('x'), TRICKLE_EVERY_MS);
  sock.on('error', () => undefined);
  // Read (and drop) the request, so the stream flows and the client's FIN comes out as 'end'.
  sock.resume();
  sock.on('end', () => serverSawFin++);
  sock.on('close', () => {
    clearInterval(trickle);
    serverSockets.delete(sock);
    if (serverSockets.size === 0) allClosed();
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as net.AddressInfo).port;

const kind = actorKind('short-conn-client')!;
const problems: string[] = [];
const options = resolveFields(
  kind.options,
  {
    target: 'trickle',
    model: 'closed',
    concurrency,
    duration: `${durationMs}ms`,
    idleTimeout: '500ms',
    engine,
    closeStyle,
  },
  'flood',
  problems,
);
if (problems.length) throw new Error(problems.join('\n'));
const plan = {
  name: 'flood',
  kind: 'short-conn-client',
  role: 'load',
  host: 'box',
  options,
  connect: { actor: 'trickle', host: 'box', address: '127.0.0.1', port },
};
const flood = kind.create(plan as never, { plan: plan as never, now: () => performance.now(), log: () => undefined });

await flood.start();
let guard: NodeJS.Timeout | undefined;
const ended = await Promise.race([
  flood.done.then(() => true),
  new Promise<boolean>((r) => (guard = setTimeout(() => r(false), GUARD_MS))),
]);
clearTimeout(guard);
const stats = flood.stats();

/** The client side's rows toward the server: those with a file (still open in this process) and all, by state. */
const openToServer: Record<string, number> = {};
const rowsToServer: Record<string, number> = {};
for (const [file, family] of [
  ['/proc/net/tcp', 4],
  ['/proc/net/tcp6', 6],
] as const) {
  scanProcNetTcp(readFileSync(file), family, (row) => {
    if (row.remotePort !== port) return;
    const state = stateName(row.state) ?? String(row.state);
    rowsToServer[state] = (rowsToServer[state] ?? 0) + 1;
    if (row.inode !== 0) openToServer[state] = (openToServer[state] ?? 0) + 1;
  });
}

// A FIN leaves the server's socket open until its next write draws the client's RST; an RST closes it at once.
if (serverSockets.size > 0)
  await new Promise<void>((r) => {
    const wait = setTimeout(r, GUARD_MS);
    allClosed = () => (clearTimeout(wait), r());
  });
process.stdout.write(`${JSON.stringify({ ended, stats, accepted, openToServer, rowsToServer, serverSawFin })}\n`);
if (ended) await flood.close();
else flood.destroy();
for (const sock of serverSockets) sock.destroy();
server.close();
