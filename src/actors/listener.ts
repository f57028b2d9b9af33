// A bare TCP listener with or without SO_REUSEADDR. libuv sets SO_REUSEADDR on every TCP bind, so a Node
// server can never show the restart that fails with EADDRINUSE; the socket therefore lives in a small
// python3 helper (listener.py) that makes exactly the syscalls asked for. The helper is a child of the
// agent: it exits on EOF of its stdin and is SIGKILLed by the kernel when the agent dies (PR_SET_PDEATHSIG),
// and the lab's teardown kills every process left in the namespace.
import { STOP_TIMEOUTS } from '../core/defaults.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { f } from '../core/fields.ts';
import { lineSplitter } from '../core/lines.ts';
import { defineActorKind, type Actor } from './actor.ts';
import type { ErrorCount } from './error-tally.ts';
import { deferred } from '../core/deferred.ts';

const HELPER = resolve(dirname(fileURLToPath(import.meta.url)), 'listener.py');
/** The distribution's python3, not a user's shim: lighter to start and the same on every run. */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

const options = {
  port: f.int({ min: 1, max: 65535, default: 8080, describe: 'TCP port to listen on' }),
  reuseAddr: f.bool({
    default: false,
    describe: 'set SO_REUSEADDR before bind() (libuv always does; here it is a choice)',
  }),
  backlog: f.int({
    min: 0,
    max: 65535,
    default: 511,
    describe: "listen() backlog, capped by the host's net.core.somaxconn",
  }),
  acceptAfter: f.duration({
    default: 0,
    describe: 'accept nothing until this long after listening: connections wait in the accept queue',
  }),
  acceptEvery: f.duration({ default: 0, describe: 'at most one accept() per this interval (0: as fast as they come)' }),
  hold: f.duration({ default: 0, describe: 'keep each accepted connection this long before replying and closing' }),
  reply: f.oneOf(['http', 'close'] as const, {
    default: 'http',
    describe:
      'http: read the request head, answer a fixed 200 with Connection: close, then close first; close: close without a word',
  }),
  closeStyle: f.oneOf(['graceful', 'rst'] as const, {
    default: 'graceful',
    describe:
      'graceful: close(2) with everything read, a FIN, and TIME_WAIT here; rst: SO_LINGER 0, an RST and no TIME_WAIT',
  }),
  nofile: f.optional(
    f.int({ min: 8, max: 1_048_576, describe: 'RLIMIT_NOFILE of the helper process (only lowers the inherited one)' }),
  ),
  restartAfterAccepts: f.optional(
    f.int({
      min: 1,
      describe:
        'once this many connections were accepted and all closed, close the listening socket and listen again on the same port',
    }),
  ),
  restartReuseAddr: f.optional(f.bool({ describe: 'SO_REUSEADDR of the restarted socket (default: reuseAddr)' })),
  restartTries: f.int({
    min: 1,
    max: 100,
    default: 5,
    describe: 'bind()/listen() attempts of the restart, 100 ms apart',
  }),
};

/** What listener.py reports (its stats()): the same shape in every event. */
export interface ListenerStats {
  accepted: number;
  replied: number;
  closed: number;
  open: number;
  /** listen() calls that succeeded: 2 after a restart that worked. */
  listens: number;
  maxOpen: number;
  /** Connections taken by the first accept() run after a paused start, and the largest run since. */
  firstBatch: number | null;
  maxBatch: number;
  /** The listener's accept queue (rx_queue in /proc/net/tcp) when accept() resumed. */
  queuedAtResume: number | null;
  errors: Record<string, ErrorCount>;
  errorCount: number;
  firstError: { code: string; syscall: string; atMs: number } | null;
  restart: ListenerRestart;
  limits: { nofile: { soft: number; hard: number } };
  reuseAddr: boolean;
  backlog: number;
}

export interface ListenerRestart {
  state: 'not-asked' | 'waiting' | 'restarting' | 'listening' | 'failed';
  tries: number;
  atMs: number | null;
  /** States of the sockets on the port when the restart began, from /proc/net/tcp. */
  portStates?: Record<string, number>;
}

type HelperEvent =
  | { type: 'listening'; stats: ListenerStats }
  | { type: 'stats'; stats: ListenerStats }
  | { type: 'fatal'; code: string; syscall: string; message: string; stats: ListenerStats };

export const listener = defineActorKind({
  kind: 'listener',
  role: 'server',
  describe:
    'bare TCP listener (python3 helper): SO_REUSEADDR on or off, backlog, paused or slow accept, restart on the same port',
  options,
  link(_o, ctx) {
    ctx.needTool('python3');
    return undefined;
  },
  connections: ({ options: o }) => ({
    accepts: {
      port: o.port,
      backlog: o.backlog,
      acceptAfterMs: o.acceptAfter,
      reuseAddr: o.reuseAddr,
      ...(o.restartAfterAccepts !== undefined ? { restart: { reuseAddr: o.restartReuseAddr ?? o.reuseAddr } } : {}),
      keepAlive: false,
      closeStyle: o.closeStyle,
      unreadBody: false,
      ...(o.hold > 0 ? { answersAfterMs: o.hold } : {}),
    },
    dials: [],
    ...(o.nofile !== undefined ? { nofile: o.nofile } : {}),
  }),
  create(plan, ctx): Actor<Partial<ListenerStats>> {
    const o = plan.options;
    const config = {
      host: '0.0.0.0',
      port: o.port,
      reuseAddr: o.reuseAddr,
      backlog: o.backlog,
      acceptAfter: o.acceptAfter,
      acceptEvery: o.acceptEvery,
      hold: o.hold,
      reply: o.reply,
      closeStyle: o.closeStyle,
      nofile: o.nofile ?? null,
      restartAfterAccepts: o.restartAfterAccepts ?? null,
      restartReuseAddr: o.restartReuseAddr ?? o.reuseAddr,
      restartTries: o.restartTries,
      // python's time.monotonic() and process.hrtime() both read CLOCK_MONOTONIC.
      clockOffsetMs: ctx.now() - Number(process.hrtime.bigint()) / 1e6,
    };
    let latest: ListenerStats | undefined;
    let child: ChildProcess | undefined;
    const ended = deferred();
    const done = ended.promise;

    const onEvent = (event: HelperEvent) => {
      latest = event.stats;
    };

    return {
      done,
      start: () =>
        new Promise<void>((resolveStart, reject) => {
          child = spawn(PYTHON, ['-I', '-u', HELPER, JSON.stringify(config), String(process.pid)], {
            stdio: ['pipe', 'pipe', 'pipe'],
          });
          child.stdin!.on('error', () => undefined);
          let stderr = '';
          child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
          child.stdout!.on(
            'data',
            lineSplitter((line) => {
              const event = JSON.parse(line) as HelperEvent;
              onEvent(event);
              if (event.type === 'listening') {
                ctx.log('info', 'listening', { port: o.port, reuseAddr: o.reuseAddr, limits: event.stats.limits });
                resolveStart();
              } else if (event.type === 'fatal') {
                const err = Object.assign(
                  new Error(
                    `listener on port ${o.port}: ${event.syscall}() failed with ${event.code} (${event.message})`,
                  ),
                  { code: event.code, syscall: event.syscall },
                );
                reject(err);
              }
            }),
          );
          child.on('error', reject);
          child.on('exit', (code, signal) => {
            if (code !== 0 && signal !== 'SIGKILL')
              ctx.log('warn', 'listener helper exited', { code, signal, stderr: stderr.trim() });
            reject(new Error(`listener helper exited (${code ?? signal}) before listening: ${stderr.trim()}`));
            ended.resolve();
          });
        }),
      async close() {
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        child.stdin!.write('close\n');
        const timer = setTimeout(() => child?.kill('SIGKILL'), STOP_TIMEOUTS.listenerCloseMs);
        await done;
        clearTimeout(timer);
      },
      destroy() {
        child?.kill('SIGKILL');
      },
      stats: () => ({ ...latest }),
    };
  },
});
