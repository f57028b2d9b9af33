// An agent of many hosts: one process, run in the lab's bridge namespace, serving each attached host as runAgent
// serves one, from outside the host: its /proc/net tables, sysctls and census socket opened inside the host (the
// calling thread enters it for the call), its native flood on a thread inside it. Only hosts whose actors can run
// this way are attached (the lab driver decides: lab/groupable-hosts.ts); every line in and out names its host
// (lab/agent-group-protocol.ts).
import { PassThrough } from 'node:stream';
import { lineReader } from './protocol.ts';
import { runAgent } from './agent.ts';
import { parseToGroup, type FromGroup } from '../lab/agent-group-protocol.ts';
import { namedNamespacePath } from '../sampler/sock-diag.ts';

interface ServedHost {
  readonly input: PassThrough;
  fatal(err: unknown): void;
  ended: boolean;
}

export function runGroupAgent(
  input: NodeJS.ReadableStream,
  write: (envelope: FromGroup) => void,
  exitProcess: (code: number) => void,
): void {
  const hosts = new Map<string, ServedHost>();
  let inputEnded = false;
  let worst = 0;
  const exitWhenIdle = () => {
    if (inputEnded && [...hosts.values()].every((h) => h.ended)) exitProcess(worst);
  };

  const attach = (host: string, namespace: string) => {
    // Checked before any thread enters it: a namespace name becomes a path that root opens.
    namedNamespacePath(namespace);
    const served: ServedHost = { input: new PassThrough(), fatal: () => undefined, ended: false };
    hosts.set(host, served);
    const agent = runAgent(
      served.input,
      (event) => {
        if (!served.ended) write({ host, line: JSON.stringify(event) });
      },
      (code) => {
        if (served.ended) return;
        served.ended = true;
        worst = Math.max(worst, code);
        write({ host, exit: code });
        exitWhenIdle();
      },
      undefined,
      namespace,
    );
    served.fatal = agent.fatal;
  };

  // An error no host's handler caught belongs to no host in particular: every host still served reports it.
  const fatalToAll = (err: unknown) => {
    for (const h of hosts.values()) if (!h.ended) h.fatal(err);
  };
  process.on('uncaughtException', fatalToAll);
  process.on('unhandledRejection', fatalToAll);

  input.on(
    'data',
    lineReader(
      (value) => {
        const msg = parseToGroup(value);
        if (typeof msg === 'string')
          return fatalToAll(new Error(`not a group command (${msg}): ${JSON.stringify(value)}`));
        const served = hosts.get(msg.host);
        if ('attach' in msg) {
          if (served) return served.fatal(new Error(`host ${msg.host} attached twice`));
          try {
            attach(msg.host, msg.attach);
          } catch (err) {
            write({ host: msg.host, line: JSON.stringify({ type: 'fatal', message: (err as Error).message }) });
            write({ host: msg.host, exit: 1 });
          }
          return;
        }
        if (!served || served.ended) return;
        if ('line' in msg) served.input.write(`${msg.line}\n`);
        else if ('end' in msg) served.input.end();
        else {
          // The input's end destroys every actor at once; the host is reported gone as a killed process is.
          served.input.end();
          served.ended = true;
          write({ host: msg.host, exit: 137 });
          exitWhenIdle();
        }
      },
      (text) => fatalToAll(new Error(`not a group command: ${text}`)),
    ),
  );
  // The driver is gone: every host's agent destroys what it runs, as its own agent would on a closed stdin.
  input.on('end', () => {
    inputEnded = true;
    for (const h of hosts.values()) if (!h.ended) h.input.end();
    exitWhenIdle();
  });
}
