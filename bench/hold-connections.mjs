// Inside a lab host (run by bench/watch-cpu.mjs): PAIRS loopback connections to PORTS server ports from BASE,
// INFLIGHT opened at a time, all held open: 2 x PAIRS ESTABLISHED sockets in the host (client and server
// ends), a population that stays put while readers are measured. Prints the number held, then holds them
// until SIGTERM, or 180 s whatever happens. Needs an open-files limit above 2 x PAIRS.
import net from 'node:net';

const [pairs, base, ports, inflight] = process.argv.slice(2).map(Number);
setTimeout(() => process.exit(0), 180_000);
process.on('SIGTERM', () => process.exit(0));
for (let i = 0; i < ports; i++) {
  const server = net.createServer((s) => s.on('error', () => undefined));
  await new Promise((r) => server.listen(base + i, '127.0.0.1', r));
}
const held = [];
let started = 0;
async function worker() {
  while (started < pairs) {
    const port = base + (started++ % ports);
    await new Promise((resolve) => {
      const c = net.connect({ port, host: '127.0.0.1' }, () => {
        held.push(c);
        resolve();
      });
      c.on('error', resolve);
    });
  }
}
await Promise.all(Array.from({ length: inflight }, worker));
process.stdout.write(`${held.length}\n`);
