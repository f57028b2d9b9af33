// http-server with engine nginx: a real, fast server for floods to aim at, run by nginx-process.ts. It serves a
// file of responseBytes for every path, and its keep-alive settings choose who closes:
//   keepAlive off, closer server: keepalive_timeout 0, nginx closes right after each response (TIME_WAIT here);
//   keepAlive off, closer client: nginx keeps the connection and waits up to keepAliveTimeout for the client's
//     FIN (a client that asks `Connection: close` still makes nginx close first: that is HTTP);
//   keepAlive on: keepalive_timeout keepAliveTimeout.
import { nginxListen } from './listen-address.ts';
import { InvalidValueError } from '../core/errors.ts';
import type { ActorContext } from './actor.ts';
import { nginxMainConfig, nginxProcess, type NginxVersion } from './nginx-process.ts';
import { ErrorLogTally, type EngineStats, type ErrorLogCounts } from './proxy-engine.ts';

export interface NginxServerSettings {
  name: string;
  binary: string;
  port: number;
  backlog: number;
  workers: number;
  keepAlive: boolean;
  keepAliveTimeoutMs: number;
  /** keepalive_requests: 0 for no limit of ours (one connection serves as many requests as the client sends). */
  keepAliveRequests: number;
  closer: 'server' | 'client';
  responseBytes: number;
  /** The wildcard it listens on (listen-address.ts). */
  host: '0.0.0.0' | '::';
}

const BODY_FILE = 'body';

/** A type, not an interface: stats are read as plain records (Record<string, unknown>) by the report. */
export type NginxServerStats = { engine: 'nginx'; port: number; errorLog: ErrorLogCounts } & Pick<
  EngineStats,
  'version' | 'processModel' | 'exitedEarly' | 'config'
>;

/** Seconds of keepalive_timeout: 0 makes nginx close after every response. */
function keepAliveSeconds(s: NginxServerSettings): number {
  return s.keepAlive || s.closer === 'client' ? Math.max(1, Math.ceil(s.keepAliveTimeoutMs / 1000)) : 0;
}

export function nginxServerConfig(
  s: NginxServerSettings,
  dir: string,
  version: NginxVersion,
  rootless: boolean,
): string {
  const ints: [string, number, number, number][] = [
    ['port', s.port, 1, 65535],
    ['backlog', s.backlog, 1, 65535],
    ['keepAliveTimeoutMs', s.keepAliveTimeoutMs, 0, 2 ** 31],
    ['keepAliveRequests', s.keepAliveRequests, 0, 1_000_000_000],
    ['responseBytes', s.responseBytes, 0, 2 ** 31],
  ];
  const bad = ints.filter(([, v, lo, hi]) => !Number.isInteger(v) || v < lo || v > hi).map(([k, v]) => `${k} ${v}`);
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(s.name)) bad.push(`name ${JSON.stringify(s.name)}`);
  if (bad.length) throw new InvalidValueError(`refusing to write an nginx server configuration with ${bad.join(', ')}`);
  return nginxMainConfig({
    title: `http-server actor ${s.name} (nginx ${version.text}${rootless ? ', rootless' : ''})`,
    dir,
    rootless,
    workers: s.workers,
    http: [
      'default_type text/plain;',
      'sendfile on;',
      'tcp_nodelay on;',
      'open_file_cache max=16;',
      `keepalive_timeout ${keepAliveSeconds(s)}s;`,
      // 0: one connection serves as many requests as the client sends (nginx's default, 1000, would close it first).
      `keepalive_requests ${s.keepAliveRequests || 1_000_000_000};`,
      'server {',
      `  listen ${nginxListen(s.host, s.port)} backlog=${s.backlog};`,
      `  root ${dir};`,
      `  location / { try_files /${BODY_FILE} =500; }`,
      '}',
    ],
  });
}

export function nginxServer(s: NginxServerSettings, ctx: ActorContext) {
  const errors = new ErrorLogTally(ctx.now);
  const engine = nginxProcess(
    {
      name: s.name,
      binary: s.binary,
      port: s.port,
      workers: s.workers,
      config: (dir, version, rootless) => nginxServerConfig(s, dir, version, rootless),
      files: { [BODY_FILE]: Buffer.alloc(s.responseBytes, 'x') },
    },
    ctx,
    errors,
  );
  return {
    done: engine.done,
    start: () => engine.start(),
    close: () => engine.close(),
    destroy: () => engine.destroy(),
    stats: (): NginxServerStats => {
      // First: the engine reads the rest of its error log before the tally is copied.
      const own = engine.stats();
      return { engine: 'nginx', port: s.port, errorLog: errors.toJSON(), ...own };
    },
  };
}
