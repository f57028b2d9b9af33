// The generated engine configurations, checked by the engines themselves (`nginx -t`, `haproxy -c`), and plan
// validation of the proxy actor: a missing binary is a problem naming its Debian package, before any lab exists.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findExecutable } from '../../src/core/executable-lookup.ts';
import { haproxyConfig } from '../../src/actors/proxy-haproxy.ts';
import type { ProxySettings } from '../../src/actors/proxy-engine.ts';
import { nginxConfig, nginxVersion, parseNginxErrorLine } from '../../src/actors/proxy-nginx.ts';
import { loadPlan, resolvePlan } from '../../src/plan/load-plan.ts';
import { defineScenario } from '../../src/core/scenario.ts';
import { PlanValidationError } from '../../src/core/errors.ts';
import { currentPrivilege } from '../../src/lab/privilege.ts';
import { BIN, tempDir } from '../helpers/lab.ts';
import { proxySettings } from '../helpers/proxy-settings.ts';
import { describeWithTools } from '../helpers/tools.ts';

const settings = proxySettings;

const nginx = findExecutable('nginx');
const haproxy = findExecutable('haproxy');

function nginxTest(config: string): { status: number | null; output: string } {
  const dir = tempDir('waitlab-nginx-t-');
  writeFileSync(join(dir, 'nginx.conf'), config.replaceAll('/DIR', dir));
  const r = spawnSync(nginx!, ['-t', '-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
    encoding: 'utf8',
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describeWithTools(['nginx'], 'nginx configuration', () => {
  const installed = nginx ? nginxVersion(nginx) : { text: 'none', keepAliveByDefault: false };
  const legacy = { ...installed, keepAliveByDefault: false };
  const modern = { text: '1.29.7', keepAliveByDefault: true };

  it('turns upstream keep-alive off in a way both nginx 1.22 and 1.29.7+ honour: HTTP/1.0 and Connection: close', () => {
    for (const version of [legacy, modern]) {
      const conf = nginxConfig({ settings: settings(), dir: '/DIR', version, rootless: false });
      expect(conf).toContain('proxy_http_version 1.0;');
      expect(conf).toContain('proxy_set_header Connection close;');
    }
    // 1.29.7+ would otherwise keep a pool of 32 by default.
    expect(nginxConfig({ settings: settings(), dir: '/DIR', version: modern, rootless: false })).toContain(
      'keepalive 0;',
    );
    expect(nginxConfig({ settings: settings(), dir: '/DIR', version: legacy, rootless: false })).not.toMatch(
      /keepalive \d/,
    );
  });

  it('writes configurations the installed nginx accepts: keep-alive off, a pool with proxy_bind, rootless', () => {
    // The root configuration names `user nobody nogroup`, which nginx -t can only check as the machine's root
    // (in a user namespace setgroups is denied); there the rootless form is what runs, and what is checked.
    const rootless = currentPrivilege() !== 'root';
    for (const conf of [
      nginxConfig({ settings: settings(), dir: '/DIR', version: installed, rootless }),
      nginxConfig({
        settings: settings({ keepAlive: 16, bind: '198.18.0.2' }),
        dir: '/DIR',
        version: installed,
        rootless,
      }),
      nginxConfig({ settings: settings(), dir: '/DIR', version: installed, rootless: true }),
    ]) {
      const t = nginxTest(conf);
      expect(t.output).toMatch(/syntax is ok/);
      expect(t.status).toBe(0);
    }
  });

  it('writes the upstream idle timeout, keepalive_requests and proxy_next_upstream exactly, and the installed nginx accepts them', () => {
    const rootless = currentPrivilege() !== 'root';
    const pooled = settings({
      keepAlive: 8,
      upstreamIdleTimeoutMs: 1000,
      upstreamKeepAliveRequests: 250,
      retries: 'off',
    });
    const conf = nginxConfig({ settings: pooled, dir: '/DIR', version: installed, rootless });
    const upstream = conf.slice(
      conf.indexOf('upstream waitlab_upstreams {'),
      conf.indexOf('}', conf.indexOf('upstream waitlab_upstreams {')),
    );
    expect(upstream).toMatch(/\n +keepalive_timeout 1s;\n/);
    expect(upstream).toMatch(/\n +keepalive_requests 250;\n/);
    expect(conf).toMatch(/\n +proxy_next_upstream off;\n/);
    expect(
      nginxConfig({
        settings: settings({ keepAlive: 8, upstreamIdleTimeoutMs: 1500 }),
        dir: '/DIR',
        version: installed,
        rootless,
      }),
    ).toContain('keepalive_timeout 1500ms;');
    const words = {
      'error-timeout': 'error timeout',
      'error-timeout-non-idempotent': 'error timeout non_idempotent',
      'error-timeout-http-502-503-504': 'error timeout http_502 http_503 http_504',
    } as const;
    for (const [retries, directive] of Object.entries(words)) {
      const c = nginxConfig({
        settings: settings({ retries: retries as keyof typeof words }),
        dir: '/DIR',
        version: installed,
        rootless,
      });
      expect(c).toContain(` proxy_next_upstream ${directive};\n`);
      const t = nginxTest(c);
      expect(t.output).toMatch(/syntax is ok/);
    }
    // Left out, nginx's own defaults hold: none of the three directives is written.
    expect(
      nginxConfig({ settings: settings({ keepAlive: 8 }), dir: '/DIR', version: installed, rootless }),
    ).not.toMatch(/keepalive_timeout|keepalive_requests|proxy_next_upstream/);
    const t = nginxTest(conf);
    expect(t.output).toMatch(/syntax is ok/);
    expect(t.status).toBe(0);
  });

  it.runIf(!installed.keepAliveByDefault)('needs the version check: nginx before 1.29.7 rejects `keepalive 0;`', () => {
    const t = nginxTest(nginxConfig({ settings: settings(), dir: '/DIR', version: modern, rootless: false }));
    expect(t.status).not.toBe(0);
    expect(t.output).toMatch(/invalid value "0" in "keepalive"/);
  });
});

describe('nginx error-log lines', () => {
  it('are counted by kind, errno name and cause', () => {
    const line =
      '2026/11/22 03:25:11 [crit] 7#7: *1203 connect() to 198.18.0.3:8080 failed (99: Cannot assign requested address) while connecting to upstream, client: 198.18.0.1, server: , request: "GET / HTTP/1.1", upstream: "http://198.18.0.3:8080/", host: "198.18.0.2:80"';
    expect(parseNginxErrorLine(line)).toMatchObject({
      kind: 'connect() to 198.18.0.3:8080 failed (99: Cannot assign requested address) while connecting to upstream',
      level: 'crit',
      errno: 'EADDRNOTAVAIL',
      cause: 'portsExhausted',
    });
    expect(
      parseNginxErrorLine(
        '2026/11/22 03:25:11 [error] 7#7: *9 no live upstreams while connecting to upstream, client: 198.18.0.1',
      ).cause,
    ).toBe('noLiveUpstreams');
  });
});

describeWithTools(['haproxy'], 'HAProxy configuration', () => {
  it.each<[string, ProxySettings]>([
    ['per-request server connections', settings()],
    ['a reused pool', settings({ keepAlive: 16 })],
    ['tcp mode with a source port range', settings({ mode: 'tcp', sourcePorts: { lo: 40000, hi: 40999 } })],
    ...(['never', 'safe', 'aggressive', 'always'] as const).map(
      (httpReuse) =>
        [
          `a pool with http-reuse ${httpReuse}, timeout server and timeout http-keep-alive`,
          settings({ keepAlive: 16, httpReuse, serverTimeoutMs: 7000, httpKeepAliveTimeoutMs: 1500 }),
        ] as [string, ProxySettings],
    ),
    [
      'a pool with pool-purge-delay and retry-on empty-response',
      settings({ keepAlive: 16, poolPurgeDelayMs: 250, retryOn: 'conn-failure-empty-response' }),
    ],
  ])('is accepted by the installed haproxy: %s', (_, s) => {
    const dir = tempDir('waitlab-haproxy-c-');
    writeFileSync(join(dir, 'haproxy.cfg'), haproxyConfig(s));
    const r = spawnSync(haproxy!, ['-c', '-f', join(dir, 'haproxy.cfg')], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toMatch(/Configuration file is valid/);
    expect(r.status).toBe(0);
  });
});

describe('HAProxy configuration text', () => {
  it('writes timeout server, timeout http-keep-alive and http-reuse exactly as given, and its defaults otherwise', () => {
    const conf = haproxyConfig(
      settings({ keepAlive: 16, httpReuse: 'safe', serverTimeoutMs: 7000, httpKeepAliveTimeoutMs: 1500 }),
    );
    expect(conf).toContain('\n  timeout server 7000ms\n');
    expect(conf).toContain('\n  timeout http-keep-alive 1500ms\n');
    expect(conf.match(/http-reuse \w+/g)).toEqual(['http-reuse safe']);
    const defaults = haproxyConfig(settings({ keepAlive: 16 }));
    expect(defaults).toContain('\n  timeout server 30s\n');
    expect(defaults).not.toContain('http-keep-alive 1');
    expect(defaults.match(/http-reuse \w+/g)).toEqual(['http-reuse always']);
  });

  it('refuses a value that is not of its type before writing it', () => {
    expect(() => haproxyConfig(settings({ keepAlive: 16, httpReuse: 'always\n  stats enable' as 'always' }))).toThrow(
      /httpReuse/,
    );
    expect(() =>
      nginxConfig({
        settings: settings({ retries: 'off; root /' as 'off' }),
        dir: '/DIR',
        version: { text: '1.22.1', keepAliveByDefault: false },
        rootless: true,
      }),
    ).toThrow(/retries/);
    expect(() => haproxyConfig(settings({ serverTimeoutMs: 1.5 }))).toThrow(/serverTimeoutMs/);
  });
});

describe('proxy plan validation', () => {
  it.each([
    [
      { engine: 'nginx', keepAlive: '0', upstreamIdleTimeout: '1s' },
      /upstreamIdleTimeout: needs an upstream keep-alive pool/,
    ],
    [
      { engine: 'nginx', keepAlive: '0', upstreamKeepAliveRequests: '100' },
      /upstreamKeepAliveRequests: needs an upstream keep-alive pool/,
    ],
    [
      { engine: 'builtin', keepAlive: '4', upstreamIdleTimeout: '1s' },
      /upstreamIdleTimeout: nginx only .*builtin has no such setting/,
    ],
    [{ engine: 'haproxy', retries: 'off' }, /retries: nginx only .*HAProxy's retries/],
    [{ engine: 'builtin', retries: 'off' }, /retries: nginx only .*builtin engine never retries/],
    [{ engine: 'nginx', serverTimeout: '5s' }, /serverTimeout: HAProxy only/],
    [{ engine: 'haproxy', mode: 'tcp', httpKeepAliveTimeout: '5s' }, /httpKeepAliveTimeout: HAProxy in http mode only/],
    [{ engine: 'haproxy', keepAlive: '0', httpReuse: 'safe' }, /httpReuse: needs an upstream pool/],
    [{ engine: 'nginx', retries: 'sometimes' }, /retries: .*error-timeout-non-idempotent/],
    [{ engine: 'nginx', keepAlive: '4', poolPurgeDelay: '1s' }, /poolPurgeDelay: HAProxy only \(`pool-purge-delay`\)/],
    [{ engine: 'haproxy', keepAlive: '0', poolPurgeDelay: '1s' }, /poolPurgeDelay: needs an upstream pool/],
    [{ engine: 'haproxy', mode: 'tcp', retryOn: 'conn-failure' }, /retryOn: HAProxy in http mode only/],
  ])('refuses an engine option where it has no meaning, with the reason: %j', (proxyOptions, reason) => {
    let err: unknown;
    try {
      resolvePlan(
        defineScenario({
          name: 'proxy-options',
          description: 'a proxy with engine options',
          params: {},
          build: () => ({
            hosts: { proxy: {}, backend: {} },
            actors: {
              web1: { kind: 'http-server', host: 'backend', port: 8080 },
              proxy: { kind: 'proxy', host: 'proxy', upstreams: 'web1', ...proxyOptions } as never,
            },
          }),
        }),
        'proxy-options.ts',
        {},
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PlanValidationError);
    expect((err as PlanValidationError).problems).toEqual([expect.stringMatching(reason)]);
  });

  it('rejects a binary that is not there, names the upstreams that do not exist, and keeps sourcePorts to HAProxy', async () => {
    const err = await loadPlan('proxy-short-upstream', { engine: 'nginx', sourcePorts: '40000-40099' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PlanValidationError);
    expect((err as PlanValidationError).problems).toEqual([expect.stringMatching(/sourcePorts: only HAProxy/)]);
    const tcp = await loadPlan('proxy-short-upstream', { engine: 'nginx', mode: 'tcp' }).catch((e: unknown) => e);
    expect((tcp as PlanValidationError).problems).toEqual([expect.stringMatching(/mode: only HAProxy/)]);
  });

  // Hiding the binary needs a mount namespace: as root, /dev/null (not executable) is bound over it there.
  it.runIf(currentPrivilege() === 'root' && nginx && haproxy).each([
    ['nginx', 'apt-get install nginx'],
    ['haproxy', 'apt-get install haproxy'],
  ])('stops before any lab when %s is not installed, naming the package', async (engine, hint) => {
    const binary = engine === 'nginx' ? nginx! : haproxy!;
    const run = spawnSync(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        `mount --bind /dev/null ${binary} && exec "$@"`,
        'sh',
        process.execPath,
        BIN,
        'scenario',
        'proxy-short-upstream',
        '--set',
        `engine=${engine}`,
        '--no-progress',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    // A missing tool is a lab that cannot be built here (exit 3), not an invalid scenario.
    expect(run.status).toBe(3);
    expect(run.stderr).toContain(
      `scenario proxy-short-upstream needs ${engine} (actors.proxy), not installed here: npx waitlab setup --only ${engine} installs it (${hint})`,
    );
    expect(run.stderr).not.toMatch(/running proxy-short-upstream/);
  });
});
