// HAProxy's pool settings as the generated configuration writes them: pool-purge-delay (HAProxy 2.6's only bound
// on an idle server connection's life) on each server line, retry-on in the defaults, both only where they mean
// something, and neither written unless asked.
import { describe, expect, it } from 'vitest';
import { haproxyConfig } from '../../src/actors/proxy-haproxy.ts';
import { proxySettings } from '../helpers/proxy-settings.ts';

const serverLines = (conf: string) => conf.split('\n').filter((l) => l.startsWith('  server '));

describe('HAProxy pool-purge-delay and retry-on', () => {
  it('writes pool-purge-delay on every server line of a pool, in milliseconds', () => {
    const conf = haproxyConfig(proxySettings({ keepAlive: 256, poolPurgeDelayMs: 250 }));
    expect(serverLines(conf)).toEqual([
      '  server u0 198.18.0.3:8080 pool-max-conn 256 pool-purge-delay 250ms',
      '  server u1 198.18.0.4:8080 pool-max-conn 256 pool-purge-delay 250ms',
    ]);
  });

  it("leaves HAProxy's own purge delay (5 s) and retry-on (conn-failure) alone unless asked", () => {
    const conf = haproxyConfig(proxySettings({ keepAlive: 16 }));
    expect(conf).not.toMatch(/pool-purge-delay|retry-on/);
  });

  it('writes no pool setting without a pool, where HAProxy closes each server connection after its response', () => {
    const conf = haproxyConfig(proxySettings({ keepAlive: 0, poolPurgeDelayMs: 250 }));
    expect(serverLines(conf).join('\n')).not.toMatch(/pool-/);
  });

  it('writes retry-on by name: empty-response added to conn-failure', () => {
    expect(haproxyConfig(proxySettings({ keepAlive: 16, retryOn: 'conn-failure-empty-response' }))).toContain(
      '\n  retry-on conn-failure empty-response\n',
    );
    expect(haproxyConfig(proxySettings({ keepAlive: 16, retryOn: 'conn-failure' }))).toContain(
      '\n  retry-on conn-failure\n',
    );
    expect(haproxyConfig(proxySettings({ mode: 'tcp', retryOn: 'conn-failure-empty-response' }))).not.toContain(
      'retry-on',
    );
  });

  it('refuses a value that is not of its type before writing it', () => {
    expect(() => haproxyConfig(proxySettings({ keepAlive: 16, poolPurgeDelayMs: 0.5 }))).toThrow(
      /poolPurgeDelayMs 0\.5/,
    );
    expect(() =>
      haproxyConfig(
        proxySettings({ keepAlive: 16, retryOn: 'all-retryable-errors\n  stats enable' as 'conn-failure' }),
      ),
    ).toThrow(/retryOn/);
  });
});
