// Whether an engine listens yet, read from this namespace's /proc/net/tcp{,6}: no connection is made, so
// the check leaves no socket state behind in the census.
import { scanOwnTcpTables } from '../sampler/proc-net-tcp.ts';
import { TCP_LISTEN } from '../sampler/tcp-states.ts';
import type { GuardedChild } from './guarded-child.ts';

/** Whether a TCP socket listens on `port` in this network namespace (read from /proc, no connection made). */
export function listeningOn(port: number): boolean {
  let found = false;
  scanOwnTcpTables((row) => {
    if (row.state === TCP_LISTEN && row.localPort === port) found = true;
  });
  return found;
}

/** Resolves once the engine listens; rejects with its stderr if it exits first or never listens. Counts tries, not time. */
export async function waitUntilListening(
  child: GuardedChild,
  port: number,
  what: string,
  tries = 100,
  everyMs = 50,
): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (child.exitStatus) {
      throw new Error(
        `${what} exited (${child.exitStatus.code ?? child.exitStatus.signal}) before listening on port ${port}: ${child.stderrTail || 'no output'}`,
      );
    }
    if (listeningOn(port)) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  child.kill();
  throw new Error(`${what} did not listen on port ${port} after ${tries} checks: ${child.stderrTail || 'no output'}`);
}
