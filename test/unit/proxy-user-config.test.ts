// A proxy's own nginx.conf / haproxy.cfg at plan time, without running an engine: placeholders filled only with
// values checked as their type (an injected `;` or line break never reaches the file), an unknown placeholder a
// plan error naming it and the known ones, generator options and waitlab's own nginx directives refused, a
// file another user could rewrite refused, and how the file's upstream pool is read for the connection model.
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LinkContext } from '../../src/actors/actor.ts';
import { nginxDirectives } from '../../src/actors/nginx-conf-directives.ts';
import { nginxUserGlobals } from '../../src/actors/nginx-user-globals.ts';
import {
  fillPlaceholders,
  knownPlaceholders,
  placeholderText,
  type PlaceholderValue,
} from '../../src/actors/proxy-placeholders.ts';
import { haproxyUpstreamUse, nginxUpstreamUse } from '../../src/actors/proxy-user-model.ts';
import { exitCodeFor } from '../../src/cli/exit-codes.ts';
import { InvalidValueError, MissingToolsError, PlanValidationError } from '../../src/core/errors.ts';
import { defineScenario } from '../../src/core/scenario.ts';
import { resolvePlan } from '../../src/plan/load-plan.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { hideTools } from '../setup/unit-tools.ts';

const known = new Map<string, PlaceholderValue>([
  ['listen', { type: 'endpoint', address: '198.18.0.2', port: 80 }],
  ['upstream.web', { type: 'endpoint', address: '198.18.0.3', port: 8080 }],
  ['host.backend', { type: 'address', address: '198.18.0.3' }],
  ['port.web', { type: 'port', port: 8080 }],
]);

describe('placeholders', () => {
  it('fills each named placeholder with its typed value, spaces inside the braces allowed, lines kept', () => {
    const text = 'listen {{listen}};\nserver {{ upstream.web }};\nproxy_bind {{host.backend}}; # port {{port.web}}\n';
    const filled = fillPlaceholders(text, known);
    expect(filled).toEqual({
      text: 'listen 198.18.0.2:80;\nserver 198.18.0.3:8080;\nproxy_bind 198.18.0.3; # port 8080\n',
      used: ['listen', 'upstream.web', 'host.backend', 'port.web'],
    });
  });

  it('names an unknown placeholder with its line and lists the known ones; an unclosed one too', () => {
    const filled = fillPlaceholders('events {}\nserver {{upstream.db}};\nlisten {{listen;\n', known);
    expect('problems' in filled && filled.problems).toEqual([
      'line 2: unknown placeholder "{{upstream.db}}" (known: {{listen}}, {{upstream.web}}, {{host.backend}}, {{port.web}})',
      'line 3: "{{" starts a placeholder that does not close with "}}" on its line',
    ]);
  });

  it('takes a name with a `;` or a line break for no placeholder at all: unknown, or unclosed', () => {
    const semicolon = fillPlaceholders('listen {{host.backend; include /etc/passwd}};', known);
    expect('problems' in semicolon && semicolon.problems[0]).toMatch(
      /^line 1: unknown placeholder "\{\{host\.backend; include \/etc\/passwd\}\}"/,
    );
    const newline = fillPlaceholders('listen {{host.backend\n}};', known);
    expect('problems' in newline && newline.problems).toEqual([
      'line 1: "{{" starts a placeholder that does not close with "}}" on its line',
    ]);
  });

  it('refuses a value that is not its type before any text is returned: a host address or a port carrying a directive', () => {
    const injected: [string, PlaceholderValue][] = [
      ['host.evil', { type: 'address', address: '198.18.0.3; access_log /etc/cron.d/x' }],
      ['host.evil', { type: 'address', address: '198.18.0.3\n  include /etc/shadow' }],
      ['listen', { type: 'endpoint', address: '198.18.0.2', port: 80.5 }],
      ['listen', { type: 'endpoint', address: '0.0.0.0;', port: 80 }],
      ['port.web', { type: 'port', port: '8080;' as unknown as number }],
      ['port.web', { type: 'port', port: 70000 }],
    ];
    for (const [name, value] of injected) {
      expect(() => placeholderText(name, value)).toThrow(InvalidValueError);
      expect(() => fillPlaceholders(`x {{${name}}};`, new Map([[name, value]]))).toThrow(/refusing to fill/);
    }
  });

  it('knows listen, each upstream, every host and every actor with a port, from the plan', () => {
    const ctx = {
      self: { name: 'proxy', host: 'proxy' },
      hosts: { proxy: { address: '198.18.0.2' }, backend: { address: '198.18.0.3' } },
      actors: {
        proxy: { kind: 'proxy', host: 'proxy', options: { port: 80 } },
        web: { kind: 'http-server', host: 'backend', options: { port: 8080 } },
        flood: { kind: 'short-conn-client', host: 'proxy', options: {} },
      },
    } as unknown as LinkContext;
    const names = knownPlaceholders(ctx, 80, [{ actor: 'web', host: 'backend', address: '198.18.0.3', port: 8080 }]);
    expect(Object.fromEntries(names)).toEqual({
      listen: { type: 'endpoint', address: '198.18.0.2', port: 80 },
      'upstream.web': { type: 'endpoint', address: '198.18.0.3', port: 8080 },
      'host.proxy': { type: 'address', address: '198.18.0.2' },
      'host.backend': { type: 'address', address: '198.18.0.3' },
      'port.proxy': { type: 'port', port: 80 },
      'port.web': { type: 'port', port: 8080 },
    });
  });
});

describe('nginx directives as nginx reads them', () => {
  it('tells top-level directives from those in blocks, past comments and quoted braces', () => {
    const text =
      'user www-data; # pid here is a comment\nevents { worker_connections 10; }\nhttp {\n  log_format x "a { b ; c";\n  upstream u { server 1.2.3.4:80; keepalive 4; }\n}\npid /run/x.pid;\n';
    const top = nginxDirectives(text)
      .filter((d) => d.blocks.length === 0)
      .map((d) => `${d.name}@${d.line}`);
    expect(top).toEqual(['user@1', 'events@2', 'http@3', 'pid@7']);
    expect(nginxDirectives(text).find((d) => d.name === 'keepalive')).toEqual({
      name: 'keepalive',
      args: ['4'],
      blocks: ['http', 'upstream'],
      line: 5,
    });
    expect(nginxDirectives(text).find((d) => d.name === 'log_format')?.args).toEqual(['x', 'a { b ; c']);
  });

  it("gives nginx the foreground, the pid file and the counted error log on its command line, in the run's directory only", () => {
    expect(nginxUserGlobals('/tmp/waitlab-nginx-p-1', false)).toBe(
      'daemon off; pid /tmp/waitlab-nginx-p-1/nginx.pid; error_log /tmp/waitlab-nginx-p-1/error.log warn;',
    );
    expect(nginxUserGlobals('/tmp/d', true)).toMatch(/ master_process off;$/);
    expect(() => nginxUserGlobals('/tmp/d; user root', false)).toThrow(/working directory/);
  });
});

describe('the upstream pool a file makes', () => {
  it('nginx: a pool only with keepalive N in an upstream block and HTTP/1.1 (or 1.29.7+, where both are defaults)', () => {
    const pooled =
      'http { upstream u { server a:1; keepalive 16; } server { location / { proxy_http_version 1.1; } } }';
    expect(nginxUpstreamUse(pooled, false).perRequest).toEqual({ pooled: true, connections: 16 });
    expect(nginxUpstreamUse(pooled.replace('proxy_http_version 1.1;', ''), false).perRequest).toEqual({
      pooled: false,
    });
    expect(nginxUpstreamUse('http { upstream u { server a:1; } }', true).perRequest).toEqual({
      pooled: true,
      connections: 32,
    });
    expect(nginxUpstreamUse('http { upstream u { server a:1; keepalive 0; } }', true).perRequest).toEqual({
      pooled: false,
    });
  });

  it('HAProxy: tcp by default, no reuse with http-server-close, a pool only where every server says pool-max-conn, else nothing claimed', () => {
    expect(haproxyUpstreamUse('defaults\n  timeout connect 1s\nbackend b\n  server s 1.2.3.4:80\n')).toEqual({
      perRequest: { pooled: false },
      closeStyle: 'graceful',
    });
    expect(haproxyUpstreamUse('defaults\n  mode http\n  option http-server-close\n')).toEqual({
      perRequest: { pooled: false },
      closeStyle: 'rst',
    });
    expect(
      haproxyUpstreamUse('defaults\n  mode http\nbackend b\n  server s 1.2.3.4:80 pool-max-conn 8 # a pool\n'),
    ).toEqual({ perRequest: { pooled: true, connections: 8 }, closeStyle: 'rst' });
    expect(haproxyUpstreamUse('defaults\n  mode http\nbackend b\n  server s 1.2.3.4:80\n')).toBeUndefined();
    expect(haproxyUpstreamUse('defaults\n  mode http\nfrontend f\n  mode tcp\n')).toBeUndefined();
  });
});

describe('a proxy with config: at plan time', () => {
  let show: (() => void) | undefined;
  afterEach(() => show?.());

  /** A scenario file in a fresh directory beside its config file; the proxy's options over the defaults. */
  function planWith(config: string, proxy: Record<string, unknown> = {}, fileName = 'my.conf') {
    const dir = tempDir('waitlab-usercfg-');
    writeFileSync(join(dir, fileName), config, { mode: 0o644 });
    const spec = {
      hosts: { client: {}, proxy: {}, backend: {} },
      actors: {
        web: { kind: 'http-server', host: 'backend', port: 8080 },
        proxy: { kind: 'proxy', host: 'proxy', port: 80, upstreams: 'web', config: `./${fileName}`, ...proxy },
        flood: { kind: 'short-conn-client', host: 'client', target: 'proxy', rate: '10/s', duration: '1s' },
      },
    };
    return {
      dir,
      load: () =>
        resolvePlan(
          defineScenario({ name: 'inline', description: 'test', params: {}, build: () => spec as never }),
          join(dir, 'scenario.ts'),
          {},
        ),
    };
  }

  function problems(load: () => unknown): string[] {
    try {
      load();
    } catch (err) {
      if (err instanceof PlanValidationError) {
        expect(exitCodeFor(err)).toBe(2);
        return err.problems.filter((p) => !/needs nginx|needs haproxy/.test(p));
      }
      if (err instanceof MissingToolsError) return [];
      throw err;
    }
    return [];
  }

  it('an unknown placeholder is a plan error naming the file, the placeholder and every known one (exit 2)', () => {
    show = hideTools('nginx');
    const { dir, load } = planWith(
      'events {}\nhttp { server { listen {{listen}}; location / { proxy_pass http://{{upstream.db}}; } } }\n',
    );
    expect(problems(load)).toEqual([
      `actors.proxy.config: ${dir}/my.conf line 2: unknown placeholder "{{upstream.db}}" (known: {{listen}}, {{upstream.web}}, {{host.client}}, {{host.proxy}}, {{host.backend}}, {{port.web}}, {{port.proxy}})`,
    ]);
  });

  it('refuses the options that write configuration lines, with what they write, and the builtin engine', () => {
    show = hideTools('nginx');
    const { load } = planWith('events {}\n', { keepAlive: 16, retries: 'off', bind: '198.18.0.2' });
    expect(problems(load)).toEqual([
      expect.stringMatching(
        /^actors\.proxy\.keepAlive: means nothing with your own config file: it writes the upstream pool/,
      ),
      expect.stringMatching(
        /^actors\.proxy\.bind: means nothing with your own config file: it writes nginx `proxy_bind`/,
      ),
      expect.stringMatching(
        /^actors\.proxy\.retries: means nothing with your own config file: it writes nginx `proxy_next_upstream`/,
      ),
    ]);
    expect(problems(planWith('x', { engine: 'builtin' }).load)).toEqual([
      'actors.proxy.config: the builtin engine has no configuration file (use engine nginx or haproxy)',
    ]);
  });

  it('refuses the top-level directives waitlab gives nginx itself, by line, with the reason', () => {
    show = hideTools('nginx');
    const { dir, load } = planWith('daemon on;\nevents {}\n# pid in a comment\npid /run/nginx.pid;\nhttp { }\n');
    expect(problems(load)).toEqual([
      `actors.proxy.config: ${dir}/my.conf line 1: leave \`daemon\` out: waitlab runs nginx in the foreground (-g "daemon off;") so that its agent can stop it and see it exit`,
      `actors.proxy.config: ${dir}/my.conf line 4: leave \`pid\` out: waitlab puts nginx's pid file in the run's working directory (-g "pid <dir>/nginx.pid;")`,
    ]);
  });

  it('reads no file another user could rewrite, and none that is not a regular file', () => {
    show = hideTools('nginx', 'haproxy');
    const open = planWith('events {}\n');
    chmodSync(join(open.dir, 'my.conf'), 0o666);
    expect(problems(open.load)).toEqual([
      expect.stringMatching(
        /my\.conf is writable by every user \(mode 666\), so another user could change what is read there/,
      ),
    ]);
    const missing = planWith('events {}\n', { config: './absent.conf' });
    expect(problems(missing.load)).toEqual([expect.stringMatching(/^actors\.proxy\.config: .*absent\.conf: ENOENT/)]);
    const directory = planWith('events {}\n', { config: '.' });
    expect(problems(directory.load)).toEqual([expect.stringMatching(/is a directory: give a file/)]);
  });

  it('refuses a file over the size cap without reading it whole', () => {
    show = hideTools('haproxy');
    const { load } = planWith(`# ${'x'.repeat(1536 * 1024)}\n`, { engine: 'haproxy' });
    expect(problems(load)).toEqual([
      expect.stringMatching(/my\.conf is 2 MiB, more than the 1 MiB such a file can be$/),
    ]);
  });
});
