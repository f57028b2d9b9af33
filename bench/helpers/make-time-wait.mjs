// Inside a lab host: leaves N client sockets in TIME_WAIT (60 s) on 127.0.0.1, spread over enough listening
// ports that no port budget runs out (the host's ip_local_port_range must be wide: 1024-65535 gives 64,512
// per port), CONCURRENCY connections at a time, each closed by the client first. Prints N once done.
// Bounded by count: every connection is made once, and an error ends the process.
import net from 'node:net';

const n = Number(process.argv[2]);
const perPort = Number(process.argv[3] ?? 60_000);
const firstPort = Number(process.argv[4] ?? 9000);
const CONCURRENCY = 256;
if (!Number.isInteger(n) || n < 1 || !Number.isInteger(perPort) || perPort < 1)
  throw new Error('usage: make-time-wait.mjs N [perPort] [firstPort]');

const ports = Array.from({ length: Math.ceil(n / perPort) }, (_, i) => firstPort + i);
const servers = await Promise.all(
  ports.map(
    (port) =>
      new Promise((resolve) => {
        const s = net.createServer((c) => c.on('end', () => c.end()).resume());
        s.listen({ port, host: '127.0.0.1', backlog: 4096 }, () => resolve(s));
      }),
  ),
);
let started = 0;
const one = () =>
  new Promise((resolve, reject) => {
    const port = ports[Math.floor(started / perPort)];
    started++;
    const c = net.connect({ port, host: '127.0.0.1' }, () => c.end());
    c.on('error', reject).resume().on('close', resolve);
  });
await Promise.all(
  Array.from({ length: Math.min(CONCURRENCY, n) }, async () => {
    while (started < n) await one();
  }),
);
for (const s of servers) s.close();
process.stdout.write(`${n}\n`);
