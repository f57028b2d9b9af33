// N ESTABLISHED sockets held in a lab host (N / 2 loopback connections, both ends in the host), by as many
// bench/hold-connections.mjs processes as the open-files limit needs: a population that stays put while readers
// are measured, where TIME_WAIT would expire (60 s) before a 2-core machine had made 250,000 of them.
// Resolves once every holder has its share, with a stop() that ends them; holders exit by themselves after 180 s.
import { execFileSync, spawn } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

export async function holdSockets(namespace, n) {
  const pairsPerHolder = Math.floor((Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' })) - 100) / 2);
  const holders = [];
  // Listening ports below 1024: a host whose ip_local_port_range starts at 1024 gives the first holder's connections
  // ports that a later holder's listener would otherwise find taken (EADDRINUSE).
  for (let left = n / 2, base = 200; left > 0; left -= pairsPerHolder, base += 10) {
    holders.push(
      spawn(
        'ip',
        [
          'netns',
          'exec',
          namespace,
          process.execPath,
          resolve(ROOT, 'bench/hold-connections.mjs'),
          String(Math.min(left, pairsPerHolder)),
          String(base),
          '2',
          '64',
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      ),
    );
  }
  const stop = () => {
    for (const h of holders) h.kill('SIGTERM');
  };
  try {
    await Promise.all(
      holders.map(
        (h) =>
          new Promise((r, reject) => {
            let out = '';
            h.stdout.on('data', (d) => (out += d).includes('\n') && r(Number(out)));
            h.on('exit', (code) => reject(new Error(`a holder exited (${code})`)));
          }),
      ),
    );
  } catch (err) {
    stop();
    throw err;
  }
  return { stop };
}
