// The compose file a plan becomes: parsed back by a YAML parser, so what a runtime reads is what the plan says,
// whatever a value holds.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { composeCommand } from '../../../src/cli/compose-command.ts';
import { defineScenario } from '../../../src/core/scenario.ts';
import { composeDocument, composeFile, composeRefusals, labSubnet } from '../../../src/lab/compose-file.ts';
import { loadPlan, resolvePlan } from '../../../src/plan/load-plan.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const options = { image: 'localhost/waitlab:0.1.0', agents: { volume: 'agents' }, network: { create: true as const } };

describe('the compose file of a plan', () => {
  it('gives each host a service with its agent, its sysctls in list form, its address, and the lab network internal', async () => {
    const plan = await loadPlan('proxy-short-upstream');
    const doc = parse(
      composeFile(
        plan,
        {
          ...options,
          controller: { args: ['scenario', 'proxy-short-upstream', '--driver', 'attached'], reports: './reports' },
        },
        ['h'],
      ),
    );
    expect(Object.keys(doc.services)).toEqual([...Object.keys(plan.hosts), 'waitlab']);
    const proxy = doc.services.proxy;
    expect(proxy.command).toEqual([
      'node',
      '/opt/waitlab/dist/agent/main.js',
      '--socket',
      '/waitlab/agents/proxy.sock',
    ]);
    expect(proxy.sysctls).toEqual(Object.entries(plan.hosts['proxy']!.sysctls).map(([k, v]) => `${k}=${v}`));
    expect(proxy.sysctls).toContain('net.ipv4.ip_local_port_range=40000 40999');
    expect(proxy.networks).toEqual({ lab: { ipv4_address: plan.hosts['proxy']!.address } });
    // A host without sysctls has no sysctls key (an empty list is not what podman-compose 1.0 expects).
    expect(doc.services.client.sysctls).toBeUndefined();
    expect(doc.networks.lab).toEqual({
      internal: true,
      ipam: { config: [{ subnet: '198.18.0.0/24', gateway: '198.18.0.254' }] },
      labels: {},
    });
    // The controller needs no network: it reaches the agents over their sockets.
    expect(doc.services.waitlab.network_mode).toBe('none');
    expect(doc.services.waitlab.depends_on).toEqual(Object.keys(plan.hosts));
    expect(doc.services.waitlab.volumes).toEqual([
      { type: 'volume', source: 'agents', target: '/waitlab/agents' },
      { type: 'bind', source: './reports', target: '/reports' },
    ]);
  });

  it("sets each container's open-files limit from the host's limits.nofile, the default otherwise", async () => {
    const plan = await loadPlan('fd-limit');
    const doc = composeDocument(plan, options) as {
      services: Record<string, { ulimits: { nofile: { soft: number } } }>;
    };
    for (const [name, host] of Object.entries(plan.hosts))
      expect(doc.services[name]!.ulimits.nofile.soft).toBe(host.limits?.nofile ?? 16384);
  });

  it('picks a gateway address no host has', () => {
    const hosts = Object.fromEntries(
      Array.from({ length: 3 }, (_, i) => [`h${i}`, { address: `198.18.0.${252 + i}` }]),
    );
    const plan = resolvePlan(
      defineScenario({ name: 't', description: 't', params: {}, build: () => ({ hosts, actors: {} }) }),
      't',
      {},
    );
    expect(labSubnet(plan)).toEqual({ subnet: '198.18.0.0/24', gateway: '198.18.0.251' });
  });

  it('refuses a plan of several networks, and an image or network name that is more than a name', async () => {
    expect(composeRefusals(await loadPlan('nat-single-source')).join(' ')).toMatch(
      /declares networks .*--driver netns/,
    );
    expect(composeRefusals(await loadPlan('short-conn'))).toEqual([]);
    expect(composeRefusals(await loadPlan('short-conn', { family: 'ipv6' })).join(' ')).toMatch(
      /family ipv6; the compose lab addresses hosts from 198\.18\.0\.0\/15 only: use --driver netns/,
    );
    const plan = await loadPlan('short-conn');
    for (const image of ['img; rm -rf /', 'a\nb', 'UPPER', '--help'])
      expect(() => composeDocument(plan, { ...options, image })).toThrow(/not an image reference/);
    expect(() => composeDocument(plan, { ...options, network: { external: 'x y' } })).toThrow(/not a network name/);
  });
});

/** docker-compose 1.29 reads compose files with PyYAML (YAML 1.1); where python3 has it, it must read what `yaml` reads. */
const pyYaml = spawnSync('python3', ['-c', 'import yaml'], { stdio: 'ignore' }).status === 0;
const readByPyYaml = (text: string): unknown =>
  JSON.parse(
    execFileSync('python3', ['-c', 'import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))'], {
      input: text,
      encoding: 'utf8',
    }),
  );

/** A scenario file outside the catalogue, in a directory whose name holds `dir`. */
function userScenarioIn(dirName: string, fileName: string): string {
  const dir = join(tempDir('waitlab-compose-'), dirName);
  mkdirSync(dir);
  const file = join(dir, fileName);
  writeFileSync(
    file,
    `export default { name: 'mine', description: 'd', params: {}, build: () => ({ hosts: { server: {} }, actors: { web: { kind: 'http-server', host: 'server' } } }) };\n`,
  );
  return file;
}

async function composeOf(scenario: string, set: string[] = []): Promise<string> {
  const out = join(tempDir('waitlab-compose-out-'), 'docker-compose.yml');
  await composeCommand({ scenario, set, sysctl: [], scale: [], out });
  return readFileSync(out, 'utf8');
}

const LINE_BREAKS_OF_YAML_1_1 = ['\u2028', '\u2029', '\u0085'];

describe('compose files against hostile names, paths and values', () => {
  it('refuses a scenario name that is not a name: line separators, a path, empty, upper case', async () => {
    const named = (name: string) =>
      defineScenario({ name, description: 'd', params: {}, build: () => ({ hosts: { server: {} }, actors: {} }) });
    for (const name of [
      'a\u2028services: {evil: {}}',
      'a\u2029b',
      'a\u0085b',
      '../../x',
      '',
      'A',
      'x y',
      'a$HOME',
      'a:b',
      '-x',
    ]) {
      expect(() => resolvePlan(named(name), 'f', {}), JSON.stringify(name)).toThrow(/is not a scenario name/);
    }
    expect(resolvePlan(named('short-conn-2'), 'f', {}).scenario.name).toBe('short-conn-2');
    const file = userScenarioIn('named', 'bad.mjs');
    writeFileSync(file, readFileSync(file, 'utf8').replace("name: 'mine'", "name: '../../x'"));
    await expect(loadPlan(file)).rejects.toThrow(/"\.\.\/\.\.\/x" is not a scenario name/);
  });

  it('keeps a header line one comment whatever line break it holds, for YAML 1.2 and PyYAML alike', async () => {
    const plan = await loadPlan('short-conn');
    const header = LINE_BREAKS_OF_YAML_1_1.map((brk) => `x${brk}injected: {evil: 1}`).concat('y\r\nservices: {}');
    const text = composeFile(plan, options, header);
    for (const brk of LINE_BREAKS_OF_YAML_1_1) expect(text).not.toContain(brk);
    expect(Object.keys(parse(text))).toEqual(['services', 'networks', 'volumes']);
    if (pyYaml) expect(readByPyYaml(text)).toEqual(parse(text));
  });

  it('writes a $ of a scenario path as $$, so compose interpolates nothing', async () => {
    const file = userScenarioIn('a$HOME${USER}', 's$x.mjs');
    const doc = parse(await composeOf(file));
    const controller = doc.services.waitlab;
    expect(controller.volumes).toContainEqual({
      type: 'bind',
      source: file.slice(0, file.lastIndexOf('/')).split('$').join('$$'),
      target: '/waitlab/scenarios',
      read_only: true,
    });
    expect(controller.command).toContain('/waitlab/scenarios/s$$x.mjs');
    // Nothing else holds a single `$` compose would read as a variable.
    expect(JSON.stringify(doc).replaceAll('$$', '')).not.toContain('$');
  });

  it('mounts a scenario directory holding ":" as one read-only mount', async () => {
    const file = userScenarioIn('a:b:ro', 'x.mjs');
    const { volumes } = parse(await composeOf(file)).services.waitlab;
    expect(volumes).toHaveLength(3);
    expect(volumes[2]).toEqual({
      type: 'bind',
      source: file.slice(0, file.lastIndexOf('/')),
      target: '/waitlab/scenarios',
      read_only: true,
    });
  });

  it('writes every value PyYAML would read as a line break or refuse as an escape, read back the same', async () => {
    const hostile = [
      'a\u2028b: c',
      'd\u2029e',
      'f\u0085g',
      'del\u007f',
      'c1\u009b[2J',
      'esc\u001b]0;x\u0007',
      'bom\ufeff',
      'nl\nx: 1',
      'a: b',
      '# c',
      '{x: 1}',
      "it's",
      '',
    ];
    const plan = await loadPlan('short-conn');
    const text = composeFile(
      plan,
      { ...options, build: { context: '.', args: Object.fromEntries(hostile.map((h, i) => [`A${i}`, h])) } },
      [],
    );
    const args = parse(text).services.client.build.args;
    expect(Object.values(args)).toEqual(hostile);
    for (const raw of [...LINE_BREAKS_OF_YAML_1_1, '\u007f', '\u009b', '\u001b', '\ufeff'])
      expect(text).not.toContain(raw);
    if (pyYaml) expect(readByPyYaml(text)).toEqual(parse(text));
  });
});
