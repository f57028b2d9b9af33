// Inside a lab host: a known population of sockets for watch and doctor to find, held until SIGTERM (or
// 120 s, whichever comes first). Args: one JSON object with any of
//   listen: [port, ...]                  servers that close after the peer's FIN (no TIME_WAIT on their side)
//   closeFirst: {host, port, count}      connections closed by this side first, one after another: TIME_WAIT here
//   hold: {host, port, count}            connections opened and left idle: ESTABLISHED
//   halfClose: {host, port, count, everyMs}  one connection per everyMs, then end() (FIN) with the fd kept:
//                                        FIN_WAIT2 here, CLOSE_WAIT at a server that never closes
//   closeAtRate: {host, port, count, perSecond}  a service's client: count connections, perSecond of them each
//                                        second on schedule (not one after another), each closed first: TIME_WAIT here
// Prints "ready" once listen, closeFirst and hold are in place (halfClose goes on trickling).
import net from 'node:net';

interface Target {
  host: string;
  port: number;
  count: number;
}
const plan = JSON.parse(process.argv[2]!) as {
  listen?: number[];
  closeFirst?: Target;
  hold?: Target;
  halfClose?: Target & { everyMs: number };
  closeAtRate?: Target & { perSecond: number };
};
const kept: net.Socket[] = [];
setTimeout(() => process.exit(0), 120_000);
process.on('SIGTERM', () => process.exit(0));

function connect(t: { host: string; port: number }): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const c = net.connect({ host: t.host, port: t.port }, () => resolve(c));
    c.on('error', reject);
  });
}

for (const port of plan.listen ?? []) {
  const server = net.createServer((s) => s.on('end', () => s.end()).resume());
  await new Promise<void>((r) => server.listen(port, '0.0.0.0', r));
}
if (plan.closeFirst) {
  for (let i = 0; i < plan.closeFirst.count; i++) {
    const c = await connect(plan.closeFirst);
    await new Promise((r) => c.resume().on('close', r).end());
  }
}
if (plan.hold) for (let i = 0; i < plan.hold.count; i++) kept.push(await connect(plan.hold));
process.stdout.write('ready\n');
if (plan.closeAtRate) {
  const t = plan.closeAtRate;
  const t0 = performance.now();
  let started = 0;
  const tick = () => {
    // Starts due by now, on a fixed schedule: a late timer makes up its starts rather than slowing the rate.
    const due = Math.min(t.count, Math.floor(((performance.now() - t0) / 1000) * t.perSecond) + 1);
    for (; started < due; started++) {
      const c = net.connect({ host: t.host, port: t.port }, () => c.end());
      c.on('error', () => undefined).resume();
    }
    if (started < t.count) setTimeout(tick, 5);
  };
  tick();
}
if (plan.halfClose) {
  for (let i = 0; i < plan.halfClose.count; i++) {
    const c = await connect(plan.halfClose);
    c.end();
    kept.push(c.resume());
    await new Promise((r) => setTimeout(r, plan.halfClose!.everyMs));
  }
}
