// Values that reach a generated nginx or HAProxy configuration (run as root) are parsed into their type at plan
// time and checked again by the generators: `--set 'bind=127.0.0.1; access_log /tmp/x.log'` once wrote a file
// outside the lab. Issue 14, defect 2.
import { describe, expect, it } from 'vitest';
import { haproxyConfig } from '../../src/actors/proxy-haproxy.ts';
import { nginxConfig } from '../../src/actors/proxy-nginx.ts';
import { PlanValidationError } from '../../src/core/errors.ts';
import { isIpv4, parseIpv4 } from '../../src/core/units.ts';
import { loadPlan } from '../../src/plan/load-plan.ts';
import { proxySettings } from '../helpers/proxy-settings.ts';

const settings = (over: Parameters<typeof proxySettings>[0] = {}) =>
  proxySettings({ upstreams: [{ actor: 'web1', host: 'backend1', address: '198.18.0.3', port: 8080 }], ...over });
const version = { text: 'nginx/1.22.1', major: 1, minor: 22, patch: 1, keepAliveByDefault: false };

describe('addresses are parsed, not matched by prefix', () => {
  it('takes dotted quads only', () => {
    expect(parseIpv4('127.0.0.1')).toBe('127.0.0.1');
    expect(parseIpv4('198.18.0.2')).toBe('198.18.0.2');
    for (const bad of [
      '127.0.0.1; access_log /tmp/x.log',
      '127.0.0.1\n',
      '127.1',
      '256.0.0.1',
      '01.2.3.4',
      '127.0.0.1 ',
      '::1',
      7,
    ]) {
      expect(isIpv4(bad)).toBe(false);
      expect(() => parseIpv4(bad)).toThrow(/is not an IPv4 address/);
    }
  });

  it('refuses an injected bind when the scenario is loaded, before any lab', async () => {
    const err = await loadPlan('proxy-short-upstream', { bind: '127.0.0.1; access_log /tmp/x.log' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PlanValidationError);
    expect((err as Error).message).toMatch(
      /param\.bind: "127\.0\.0\.1; access_log \/tmp\/x\.log" is not an IPv4 address/,
    );
  });
});

describe('the generators check every value once more', () => {
  const injected = ['127.0.0.1; access_log /tmp/x.log', '127.0.0.1\n  error_log /tmp/y'];
  it('nginx refuses a bind, an upstream or a directory that is not what it should be', () => {
    for (const bind of injected)
      expect(() => nginxConfig({ settings: settings({ bind }), dir: '/tmp/d', version, rootless: false })).toThrow(
        /refusing to write/,
      );
    expect(() =>
      nginxConfig({
        settings: settings({ upstreams: [{ actor: 'w', host: 'b', address: '198.18.0.3;', port: 80 }] }),
        dir: '/tmp/d',
        version,
        rootless: false,
      }),
    ).toThrow(/upstream/);
    expect(() =>
      nginxConfig({ settings: settings(), dir: '/tmp/d; include /etc/passwd', version, rootless: false }),
    ).toThrow(/working directory/);
    expect(
      nginxConfig({ settings: settings({ bind: '198.18.0.2' }), dir: '/tmp/d', version, rootless: false }),
    ).toContain('      proxy_bind 198.18.0.2;');
  });

  it('HAProxy refuses a source address that is not an address', () => {
    for (const bind of injected) expect(() => haproxyConfig(settings({ bind }))).toThrow(/refusing to write/);
    expect(() => haproxyConfig(settings({ port: 70000 }))).toThrow(/port 70000/);
    expect(haproxyConfig(settings({ bind: '198.18.0.2' }))).toMatch(/ source 198\.18\.0\.2\b/);
  });
});
