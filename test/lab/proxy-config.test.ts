// The generated engine configurations, checked by the engines themselves (`nginx -t`, `haproxy -c`), and plan
// validation of the proxy actor: a missing binary is a problem naming its Debian package, before any lab exists.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findExecutable } from '../../src/core/executable-lookup.ts';
import { haproxyConfig } from '../../src/actors/proxy-haproxy.ts';
import { nginxConfig, nginxVersion, parseNginxErrorLine } from '../../src/actors/proxy-nginx.ts';
import { loadPlan } from '../../src/plan/load-plan.ts';
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
  const r = spawnSync(nginx!, ['-t', '-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { encoding: 'utf8' });
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
    expect(nginxConfig({ settings: settings(), dir: '/DIR', version: modern, rootless: false })).toContain('keepalive 0;');
    expect(nginxConfig({ settings: settings(), dir: '/DIR', version: legacy, rootless: false })).not.toMatch(/keepalive \d/);
  });

  it('writes configurations the installed nginx accepts: keep-alive off, a pool with proxy_bind, rootless', () => {
    // The root configuration names `user nobody nogroup`, which nginx -t can only check as the machine's root
    // (in a user namespace setgroups is denied); there the rootless form is what runs, and what is checked.
    const rootless = currentPrivilege() !== 'root';
    for (const conf of [
      nginxConfig({ settings: settings(), dir: '/DIR', version: installed, rootless }),
      nginxConfig({ settings: settings({ keepAlive: 16, bind: '198.18.0.2' }), dir: '/DIR', version: installed, rootless }),
      nginxConfig({ settings: settings(), dir: '/DIR', version: installed, rootless: true }),
    ]) {
      const t = nginxTest(conf);
      expect(t.output).toMatch(/syntax is ok/);
      expect(t.status).toBe(0);
    }
  });

  it.runIf(!installed.keepAliveByDefault)('needs the version check: nginx before 1.29.7 rejects `keepalive 0;`', () => {
    const t = nginxTest(nginxConfig({ settings: settings(), dir: '/DIR', version: modern, rootless: false }));
    expect(t.status).not.toBe(0);
    expect(t.output).toMatch(/invalid value "0" in "keepalive"/);
  });
});

describe('nginx error-log lines', () => {
  it('are counted by kind, errno name and cause', () => {
    const line = '2026/11/22 03:25:11 [crit] 7#7: *1203 connect() to 198.18.0.3:8080 failed (99: Cannot assign requested address) while connecting to upstream, client: 198.18.0.1, server: , request: "GET / HTTP/1.1", upstream: "http://198.18.0.3:8080/", host: "198.18.0.2:80"';
    expect(parseNginxErrorLine(line)).toMatchObject({
      kind: 'connect() to 198.18.0.3:8080 failed (99: Cannot assign requested address) while connecting to upstream',
      level: 'crit',
      errno: 'EADDRNOTAVAIL',
      cause: 'portsExhausted',
    });
    expect(parseNginxErrorLine('2026/11/22 03:25:11 [error] 7#7: *9 no live upstreams while connecting to upstream, client: 198.18.0.1').cause).toBe('noLiveUpstreams');
  });
});

describeWithTools(['haproxy'], 'HAProxy configuration', () => {
  it.each([
    ['per-request server connections', settings()],
    ['a reused pool', settings({ keepAlive: 16 })],
    ['tcp mode with a source port range', settings({ mode: 'tcp', sourcePorts: { lo: 40000, hi: 40999 } })],
  ])('is accepted by the installed haproxy: %s', (_, s) => {
    const dir = tempDir('waitlab-haproxy-c-');
    writeFileSync(join(dir, 'haproxy.cfg'), haproxyConfig(s));
    const r = spawnSync(haproxy!, ['-c', '-f', join(dir, 'haproxy.cfg')], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toMatch(/Configuration file is valid/);
    expect(r.status).toBe(0);
  });
});

describe('proxy plan validation', () => {
  it('rejects a binary that is not there, names the upstreams that do not exist, and keeps sourcePorts to HAProxy', async () => {
    const err = await loadPlan('proxy-short-upstream', { engine: 'nginx', sourcePorts: '40000-40099' }).catch((e: unknown) => e);
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
      ['--mount', '--propagation', 'private', 'sh', '-c', `mount --bind /dev/null ${binary} && exec "$@"`, 'sh', process.execPath, BIN, 'scenario', 'proxy-short-upstream', '--set', `engine=${engine}`, '--no-progress'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    // A missing tool is a lab that cannot be built here (exit 3), not an invalid scenario.
    expect(run.status).toBe(3);
    expect(run.stderr).toContain(`scenario proxy-short-upstream needs ${engine} (actors.proxy), not installed here: npx waitlab setup --only ${engine} installs it (${hint})`);
    expect(run.stderr).not.toMatch(/running proxy-short-upstream/);
  });
});
