// Inside a lab host: opens N loopback connections one after another, each closed by the client first,
// and exits once all are closed, leaving exactly N client sockets in TIME_WAIT (60 s). The address is
// 127.0.0.1 unless a third argument names another (::1 for IPv6).
import net from 'node:net';

const n = Number(process.argv[2]);
const port = Number(process.argv[3] ?? 8080);
const host = process.argv[4] === '::1' ? '::1' : '127.0.0.1';
const server = net.createServer((s) => s.on('end', () => s.end()).resume());
await new Promise<void>((r) => server.listen(port, host, r));
for (let i = 0; i < n; i++) {
  await new Promise<void>((resolve, reject) => {
    const c = net.connect({ port, host }, () => c.end());
    c.on('error', reject)
      .resume()
      .on('close', () => resolve());
  });
}
server.close();
process.stdout.write(`${n}\n`);
