// A plain Node HTTP server, as an API behind nginx usually is: keep-alive on, and Node's idle timeout (5 s) unless
// KEEP_ALIVE_TIMEOUT_MS sets another. Run by waitlab's process actor (scenario.ts), or alone: PORT=8080 node server.js
import http from 'node:http';

const port = Number(process.env.PORT ?? 8080);
const server = http.createServer((req, res) => {
  req.resume();
  // 50 ms of work, so that a round of requests holds as many connections at once.
  req.on('end', () => setTimeout(() => res.end('ok\n'), 50));
});
if (process.env.KEEP_ALIVE_TIMEOUT_MS) server.keepAliveTimeout = Number(process.env.KEEP_ALIVE_TIMEOUT_MS);
let idleCloses = 0;
server.on('connection', (socket) => socket.on('timeout', () => idleCloses++));
server.listen(port, () => console.log(`listening on ${port}, keepAliveTimeout ${server.keepAliveTimeout} ms`));
process.on('SIGTERM', () => {
  console.log(`SIGTERM: ${idleCloses} idle connections closed after keepAliveTimeout`);
  process.exit(0);
});
