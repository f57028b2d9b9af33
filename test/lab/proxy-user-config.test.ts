// The user's own nginx.conf and haproxy.cfg as a proxy's `config`: placeholders filled from the plan, the file
// checked by the engine before any lab exists (a refusal is exit 2 with the engine's own words and no namespace
// made), and a good one run between a client and a backend, counted at the backend. Through the CLI, as a user
// runs it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labNamespaces, labsLeftSince, runCli, tempDir, type TestReport } from '../helpers/lab.ts';
import { describeWithTools } from '../helpers/tools.ts';

const REQUESTS = 200;

/** A scenario file beside its config: client -> proxy (the user's file) -> backend, a bounded count of requests (a closed model: no start is missed on a busy machine; the count, not the 60 s, ends it). */
function scenarioWith(
  engine: 'nginx' | 'haproxy',
  config: string,
): { dir: string; scenario: string; configPath: string } {
  const dir = tempDir('waitlab-usercfg-');
  const configPath = join(dir, engine === 'nginx' ? 'my-nginx.conf' : 'my-haproxy.cfg');
  writeFileSync(configPath, config, { mode: 0o644 });
  const scenario = join(dir, 'scenario.ts');
  writeFileSync(
    scenario,
    `import { defineScenario } from 'waitlab';
export default defineScenario({
  name: 'user-config-${engine}',
  description: 'a proxy running the user\\'s own ${engine} configuration',
  params: {},
  build: () => ({
    hosts: { client: {}, proxy: {}, backend: {} },
    actors: {
      web: { kind: 'http-server', host: 'backend', port: 8080 },
      proxy: { kind: 'proxy', host: 'proxy', engine: '${engine}', port: 80, upstreams: 'web', config: './${configPath.split('/').pop()}' },
      flood: { kind: 'short-conn-client', host: 'client', target: 'proxy', concurrency: 4, count: ${REQUESTS}, duration: '60s' },
    },
  }),
});
`,
    { mode: 0o644 },
  );
  return { dir, scenario, configPath };
}

async function run(scenario: string, out: string): Promise<{ code: number | null; stderr: string; before: string[] }> {
  const before = labNamespaces();
  const cli = runCli(['scenario', scenario, '--out', out, '--no-progress']);
  const code = await cli.exit;
  return { code, stderr: cli.stderr(), before };
}

/** A run that should pass: every request through the proxy to the backend, the lab gone; its report and run directory. */
async function proxiedEveryRequest(
  engine: 'nginx' | 'haproxy',
  config: string,
): Promise<{ report: TestReport; out: string; configPath: string }> {
  const { dir, scenario, configPath } = scenarioWith(engine, config);
  const out = join(dir, 'run');
  const { code, stderr, before } = await run(scenario, out);
  expect(stderr).not.toMatch(/problem/);
  expect(code).toBe(0);
  expect(labsLeftSince(before)).toEqual([]);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as TestReport;
  expect(report.actors.flood!.ok).toBe(REQUESTS);
  expect(report.actors.web!.requests).toBe(REQUESTS);
  expect(report.actors.proxy!.configSource).toBe(configPath);
  return { report, out, configPath };
}

const NGINX_CONF = `worker_processes 1;
events { worker_connections 256; }
http {
  access_log off;
  upstream backend {
    server {{upstream.web}};
    # Nothing listens on port 9 of the backend: nginx logs the refusal and passes the request to web.
    server {{host.backend}}:9;
  }
  server {
    listen {{listen}};
    location / { proxy_pass http://backend; }
  }
}
`;

describeWithTools(['nginx'], "a proxy with the user's own nginx.conf", () => {
  it("runs it with the lab's addresses filled in, proxies every request to the backend and counts nginx's error log", async () => {
    const { report, out } = await proxiedEveryRequest('nginx', NGINX_CONF);
    const proxy = report.actors.proxy!;
    // waitlab's own error log (-g error_log) beside the file's: every request that met port 9 first was logged.
    expect(proxy.errorLog.causes.upstreamRefused).toBeGreaterThan(0);
    // What ran is in the run directory, filled in: the plan's addresses, no placeholder left.
    const filled = readFileSync(join(out, 'proxy.nginx.conf'), 'utf8');
    expect(filled).toBe(proxy.config);
    const addresses = report.scenario.plan.hosts;
    expect(filled).toContain(`server ${addresses.backend!.address}:8080;`);
    expect(filled).toContain(`server ${addresses.backend!.address}:9;`);
    expect(filled).toContain(`listen ${addresses.proxy!.address}:80;`);
    expect(filled).not.toContain('{{');
  });

  it("stops with exit 2 and nginx -t's own message, naming the user's file and line, before any lab is built", async () => {
    const { dir, scenario, configPath } = scenarioWith(
      'nginx',
      NGINX_CONF.replace('access_log off;', 'access_log off;\n  proxy_pas http://backend;'),
    );
    const out = join(dir, 'run');
    const { code, stderr, before } = await run(scenario, out);
    expect(code).toBe(2);
    expect(stderr).toContain(`actors.proxy.config: nginx -t refused it (exit 1):`);
    expect(stderr).toContain(`unknown directive "proxy_pas" in ${configPath}:5`);
    // Nothing of a lab: no namespace of that run, no run directory, never "running".
    expect(stderr).not.toMatch(/running user-config/);
    expect(existsSync(out)).toBe(false);
    expect(labsLeftSince(before)).toEqual([]);
  });
});

const HAPROXY_CFG = `global
  log stdout format raw local0 err
defaults
  mode http
  timeout connect 2s
  timeout client 10s
  timeout server 10s
  option http-server-close
frontend in
  bind {{listen}}
  default_backend web
backend web
  server web1 {{upstream.web}}
`;

describeWithTools(['haproxy'], "a proxy with the user's own haproxy.cfg", () => {
  it("runs it with the lab's addresses filled in and proxies every request to the backend", async () => {
    const { report, out } = await proxiedEveryRequest('haproxy', HAPROXY_CFG);
    // http-server-close: one server connection per request, closed by HAProxy with an RST, as the model says.
    expect(report.scenario.plan.actors.proxy!.connections!.dials[0]).toMatchObject({
      perRequest: { pooled: false },
      closeStyle: 'rst',
    });
    const filled = readFileSync(join(out, 'proxy.haproxy.cfg'), 'utf8');
    expect(filled).toContain(`server web1 ${report.scenario.plan.hosts.backend!.address}:8080\n`);
    expect(filled).not.toContain('{{');
  });

  it("stops with exit 2 and haproxy -c's own message before any lab is built", async () => {
    const { dir, scenario, configPath } = scenarioWith(
      'haproxy',
      HAPROXY_CFG.replace('  timeout client 10s', '  timeout clinet 10s'),
    );
    const out = join(dir, 'run');
    const { code, stderr, before } = await run(scenario, out);
    expect(code).toBe(2);
    expect(stderr).toContain('actors.proxy.config: haproxy -c refused it (exit 1):');
    expect(stderr).toContain(`${configPath}:6`);
    expect(stderr).not.toMatch(/running user-config/);
    expect(existsSync(out)).toBe(false);
    expect(labsLeftSince(before)).toEqual([]);
  });
});

describe('placeholders at plan time', () => {
  it('an unknown placeholder is exit 2 naming it and the known ones, before any lab', async () => {
    const { dir, scenario } = scenarioWith('nginx', NGINX_CONF.replace('{{upstream.web}}', '{{upstream.api}}'));
    const { code, stderr, before } = await run(scenario, join(dir, 'run'));
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /line 6: unknown placeholder "\{\{upstream\.api\}\}" \(known: \{\{listen\}\}, \{\{upstream\.web\}\}, \{\{host\.client\}\}/,
    );
    expect(labsLeftSince(before)).toEqual([]);
  });
});
