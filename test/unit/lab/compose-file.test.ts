// The compose file a plan becomes: parsed back by a YAML parser, so what a runtime reads is what the plan says,
// whatever a value holds.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { defineScenario } from '../../../src/core/scenario.ts';
import { composeDocument, composeFile, composeRefusals, labSubnet } from '../../../src/lab/compose-file.ts';
import { toYaml } from '../../../src/lab/yaml.ts';
import { loadPlan, resolvePlan } from '../../../src/plan/load-plan.ts';

const options = { image: 'localhost/waitlab:0.1.0', agents: { volume: 'agents' }, network: { create: true as const } };

describe('toYaml', () => {
  it('writes any string as one scalar: quotes, line breaks, colons, comment marks, braces', () => {
    const hostile = ['a: b', '"quoted"', 'line\nbreak', '# not a comment', '{x: 1}', '- item', "it's", '\\back', 'tab\there', ''];
    const doc = { values: hostile, map: Object.fromEntries(hostile.map((h, i) => [h, i])) };
    expect(parse(toYaml(doc))).toEqual(doc);
  });

  it('keeps a header line a comment even when it holds a line break', () => {
    const text = toYaml({ a: 1 }, ['one\nservices: {evil: {}}']);
    expect(parse(text)).toEqual({ a: 1 });
  });

  it('writes empty lists and maps and leaves out undefined', () => {
    expect(parse(toYaml({ list: [], map: {}, gone: undefined, nested: [{ a: [] }] }))).toEqual({ list: [], map: {}, nested: [{ a: [] }] });
  });
});

describe('the compose file of a plan', () => {
  it('gives each host a service with its agent, its sysctls in list form, its address, and the lab network internal', async () => {
    const plan = await loadPlan('proxy-short-upstream');
    const doc = parse(composeFile(plan, { ...options, controller: { args: ['scenario', 'proxy-short-upstream', '--driver', 'attached'], reports: './reports' } }, ['h']));
    expect(Object.keys(doc.services)).toEqual([...Object.keys(plan.hosts), 'waitlab']);
    const proxy = doc.services.proxy;
    expect(proxy.command).toEqual(['node', '/opt/waitlab/dist/agent/main.js', '--socket', '/waitlab/agents/proxy.sock']);
    expect(proxy.sysctls).toEqual(Object.entries(plan.hosts['proxy']!.sysctls).map(([k, v]) => `${k}=${v}`));
    expect(proxy.sysctls).toContain('net.ipv4.ip_local_port_range=40000 40999');
    expect(proxy.networks).toEqual({ lab: { ipv4_address: plan.hosts['proxy']!.address } });
    // A host without sysctls has no sysctls key (an empty list is not what podman-compose 1.0 expects).
    expect(doc.services.client.sysctls).toBeUndefined();
    expect(doc.networks.lab).toEqual({ internal: true, ipam: { config: [{ subnet: '198.18.0.0/24', gateway: '198.18.0.254' }] }, labels: {} });
    // The controller needs no network: it reaches the agents over their sockets.
    expect(doc.services.waitlab.network_mode).toBe('none');
    expect(doc.services.waitlab.depends_on).toEqual(Object.keys(plan.hosts));
    expect(doc.services.waitlab.volumes).toEqual(['agents:/waitlab/agents', './reports:/reports']);
  });

  it('sets each container\'s open-files limit from the host\'s limits.nofile, the default otherwise', async () => {
    const plan = await loadPlan('fd-limit');
    const doc = composeDocument(plan, options) as { services: Record<string, { ulimits: { nofile: { soft: number } } }> };
    for (const [name, host] of Object.entries(plan.hosts)) expect(doc.services[name]!.ulimits.nofile.soft).toBe(host.limits?.nofile ?? 16384);
  });

  it('picks a gateway address no host has', () => {
    const hosts = Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`h${i}`, { address: `198.18.0.${252 + i}` }]));
    const plan = resolvePlan(defineScenario({ name: 't', description: 't', params: {}, build: () => ({ hosts, actors: {} }) }), 't', {});
    expect(labSubnet(plan)).toEqual({ subnet: '198.18.0.0/24', gateway: '198.18.0.251' });
  });

  it('refuses a plan of several networks, and an image or network name that is more than a name', async () => {
    expect(composeRefusals(await loadPlan('nat-single-source')).join(' ')).toMatch(/declares networks .*--driver netns/);
    expect(composeRefusals(await loadPlan('short-conn'))).toEqual([]);
    const plan = await loadPlan('short-conn');
    for (const image of ['img; rm -rf /', 'a\nb', 'UPPER', '--help']) expect(() => composeDocument(plan, { ...options, image })).toThrow(/not an image reference/);
    expect(() => composeDocument(plan, { ...options, network: { external: 'x y' } })).toThrow(/not a network name/);
  });
});
