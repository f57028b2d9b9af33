// Programs that tests start inside lab hosts as a user's services would run there: the TypeScript port-load
// helper and a python3 server that never closes, each started with `ip netns exec` and awaited until "ready".
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { PACKAGE_ROOT } from '../../src/core/paths.ts';
import type { Lab } from '../../src/lab/driver.ts';
import { until } from './lab.ts';

export const TS_LOADER = resolve(PACKAGE_ROOT, 'test/helpers/typescript-loader.mjs');
export const PORT_LOAD = resolve(PACKAGE_ROOT, 'test/helpers/port-load.ts');
// Accepts and keeps every connection, never closing one: each peer's FIN leaves a CLOSE_WAIT here.
export const LEAKING_SERVER = `
import signal, socket, sys
signal.alarm(120)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', int(sys.argv[1])))
s.listen(128)
print('ready', flush=True)
kept = []
while True:
    kept.append(s.accept()[0])
`;

/** Starts a program inside a host and waits for its "ready"; procs collects it for the test's cleanup. */
export async function startIn(lab: Lab, host: string, argv: string[], procs: ChildProcess[]): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', lab.hosts[host]!.location, ...argv], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  procs.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  await until(() => out.includes('ready'), `${argv[0]} in ${host}`);
  return child;
}

/** A port-load plan (see port-load.ts) as the argv that runs it. */
export function portLoad(plan: object): string[] {
  return [process.execPath, '--import', TS_LOADER, PORT_LOAD, JSON.stringify(plan)];
}
