// A proxy's `config: './my-nginx.conf'` (or haproxy.cfg), resolved at plan time: the file read as root only
// where no other user can swap it, size-capped; its placeholders filled with the plan's typed values; the
// options that would write configuration lines refused; nginx's top-level directives that waitlab sets itself
// refused; and the filled text checked by the engine (`nginx -t`, `haproxy -c`) before any lab is built.
// The filled text goes into the plan: the agent writes it into nginx's or HAProxy's working directory (in a
// container too: it travels with the plan, so nothing of this machine needs mounting), and the run directory
// keeps a copy of what ran.
import { resolve } from 'node:path';
import { readInputFile } from '../core/input-file.ts';
import { trustedFile } from '../core/trusted-path.ts';
import type { Fields } from '../core/fields.ts';
import type { LinkContext } from './actor.ts';
import { nginxDirectives } from './nginx-conf-directives.ts';
import { nginxVersion } from './nginx-process.ts';
import { OWNED_NGINX_DIRECTIVES } from './nginx-user-globals.ts';
import { haproxyCheckProblem, nginxCheckProblem } from './proxy-config-check.ts';
import type { Upstream } from './proxy-engine.ts';
import { fillPlaceholders, knownPlaceholders } from './proxy-placeholders.ts';
import { haproxyUpstreamUse, nginxUpstreamUse, type UpstreamUse } from './proxy-user-model.ts';

/** An nginx.conf or haproxy.cfg is a few kilobytes; this is far above any real one and keeps the plan small. */
export const USER_CONFIG_MAX_BYTES = 1024 * 1024;

export interface UserConfig {
  /** The user's file (its real path), as the report names the source of the configuration. */
  readonly source: string;
  /** The name of the filled-in file among the actor's plan files (ActorPlan.files): exactly what was checked and what runs. */
  readonly fileName: string;
  /** How its upstream connections live, where the file says so plainly (proxy-user-model.ts); absent: unknown. */
  readonly upstreamUse?: UpstreamUse;
}

/** Options that write lines into the generated configuration, and what they write: with the user's file they mean nothing. */
const GENERATOR_OPTIONS: Readonly<Record<string, string>> = {
  keepAlive: 'the upstream pool (nginx `keepalive`, HAProxy `pool-max-conn`, `http-reuse`)',
  bind: 'nginx `proxy_bind` / HAProxy `source` (write it in your file, e.g. `proxy_bind {{host.NAME}};`)',
  sourcePorts: 'HAProxy `source addr:lo-hi`',
  mode: 'HAProxy `mode`',
  workers: 'nginx `worker_processes` / HAProxy `nbthread`',
  connectTimeout: 'nginx `proxy_connect_timeout` / HAProxy `timeout connect`',
  upstreamIdleTimeout: 'nginx upstream `keepalive_timeout`',
  upstreamKeepAliveRequests: 'nginx upstream `keepalive_requests`',
  retries: 'nginx `proxy_next_upstream`',
  serverTimeout: 'HAProxy `timeout server`',
  httpKeepAliveTimeout: 'HAProxy `timeout http-keep-alive`',
  httpReuse: 'HAProxy `http-reuse`',
};

/** Each generator option given (a value other than its default) beside `config`, with the reason it is refused. */
export function generatorOptionProblems(
  options: Readonly<Record<string, unknown>>,
  fields: Fields,
  where: string,
): string[] {
  return Object.entries(GENERATOR_OPTIONS).flatMap(([key, writes]) => {
    const value = options[key];
    const fallback = fields[key]?.default;
    if (value === undefined || value === fallback) return [];
    return [
      `${where}.${key}: means nothing with your own config file: it writes ${writes} into the generated configuration; set that in your file instead`,
    ];
  });
}

/** A top-level directive of the user's nginx.conf that waitlab gives nginx itself, with the reason. */
function ownedNginxProblems(text: string, source: string, where: string): string[] {
  return nginxDirectives(text)
    .filter((d) => d.blocks.length === 0 && Object.hasOwn(OWNED_NGINX_DIRECTIVES, d.name))
    .map(
      (d) => `${where}.config: ${source} line ${d.line}: leave \`${d.name}\` out: ${OWNED_NGINX_DIRECTIVES[d.name]}`,
    );
}

export interface UserConfigInput {
  readonly engine: 'nginx' | 'haproxy';
  /** The path as the scenario gives it, relative to the scenario file's directory. */
  readonly path: string;
  readonly port: number;
  readonly upstreams: readonly Upstream[];
  /** The engine's executable; undefined where it is missing (the plan then fails on the missing tool, exit 3). */
  readonly binary: string | undefined;
}

function readUserFile(path: string, where: string, problems: string[]): { source: string; text: string } | undefined {
  try {
    const source = trustedFile(path);
    const text = readInputFile(source, USER_CONFIG_MAX_BYTES);
    if (text.includes('\0')) {
      problems.push(`${where}.config: ${source} holds a NUL byte: give the text of an nginx.conf or a haproxy.cfg`);
      return undefined;
    }
    return { source, text };
  } catch (err) {
    problems.push(`${where}.config: ${(err as Error).message}`);
    return undefined;
  }
}

/**
 * The user's file, filled in and checked, and the filled text by its file name (the actor's plan files); pushes
 * each problem (under `where`) and returns undefined when there is one.
 */
export function resolveUserConfig(
  input: UserConfigInput,
  ctx: LinkContext,
  where: string,
  problems: string[],
): { userConfig: UserConfig; files: Record<string, string> } | undefined {
  const file = readUserFile(resolve(ctx.scenarioDir, input.path), where, problems);
  if (!file) return undefined;
  const filled = fillPlaceholders(file.text, knownPlaceholders(ctx, input.port, input.upstreams));
  if ('problems' in filled) {
    problems.push(...filled.problems.map((p) => `${where}.config: ${file.source} ${p}`));
    return undefined;
  }
  const fileName = `${ctx.self.name}.${input.engine === 'nginx' ? 'nginx.conf' : 'haproxy.cfg'}`;
  if (input.engine === 'haproxy') {
    const refused = input.binary && haproxyCheckProblem(input.binary, filled.text, file.source);
    if (refused) problems.push(`${where}.config: ${refused}`);
    const upstreamUse = haproxyUpstreamUse(filled.text);
    return refused
      ? undefined
      : {
          userConfig: { source: file.source, fileName, ...(upstreamUse ? { upstreamUse } : {}) },
          files: { [fileName]: filled.text },
        };
  }
  const owned = ownedNginxProblems(filled.text, file.source, where);
  problems.push(...owned);
  if (owned.length || !input.binary) return undefined;
  const unshare = ctx.needTool('unshare');
  const refused = unshare && nginxCheckProblem({ nginx: input.binary, unshare }, filled.text, file.source);
  if (refused) {
    problems.push(`${where}.config: ${refused}`);
    return undefined;
  }
  const upstreamUse = nginxUpstreamUse(filled.text, nginxVersion(input.binary).keepAliveByDefault);
  return { userConfig: { source: file.source, fileName, upstreamUse }, files: { [fileName]: filled.text } };
}
