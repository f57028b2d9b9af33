// The Kubernetes file a plan becomes: parsed back by a YAML parser and every object validated against Kubernetes'
// own schemas (kubernetes-models), so what a cluster (or `podman kube play`) reads is what the plan says.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { describe, expect, it, vi } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { kubeCommand, type KubeArgs } from '../../../src/cli/kube-command.ts';
import { UsageError } from '../../../src/core/errors.ts';
import { composeRefusals } from '../../../src/lab/compose-file.ts';
import { AGENT_TCP_PORT, kubeDocuments, kubePods, kubeYaml } from '../../../src/lab/kube-file.ts';
import { kubeletFlagFor, unsafeSysctlLines, unsafeSysctls } from '../../../src/lab/kube-sysctls.ts';
import { loadPlan } from '../../../src/plan/load-plan.ts';
import { listScenarioNames } from '../../../src/plan/scenario-file.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const TOKEN = 'ab'.repeat(32);
const options = { lab: 'wl-test', image: 'localhost/waitlab:0.1.0', token: TOKEN, pullPolicy: 'IfNotPresent' as const };
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  Pod,
  Service,
  ConfigMap,
  Secret,
  NetworkPolicy,
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;

function documentsOf(text: string): Doc[] {
  return parseAllDocuments(text).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS();
  });
}

async function kubeFile(
  scenario: string,
  more: Partial<KubeArgs> = {},
): Promise<{ docs: Doc[]; stderr: string; text: string }> {
  const out = join(tempDir('waitlab-kube-'), 'lab.yaml');
  let stderr = '';
  const spy = vi
    .spyOn(process.stderr, 'write')
    .mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  try {
    await kubeCommand({ scenario, set: [], sysctl: [], scale: [], spread: false, strictSafe: false, out, ...more });
  } finally {
    spy.mockRestore();
  }
  const text = readFileSync(out, 'utf8');
  return { docs: documentsOf(text), stderr, text };
}

const byKind = (docs: Doc[], kind: string) => docs.filter((d) => d.kind === kind);

describe('the Kubernetes file of a plan', () => {
  it("of every catalogue scenario with one network validates against Kubernetes' schemas, object by object", async () => {
    let checked = 0;
    for (const name of listScenarioNames()) {
      const plan = await loadPlan(name, {}, { driver: 'attached' });
      if (composeRefusals(plan).length) continue;
      const docs = documentsOf(
        kubeYaml(
          kubeDocuments(plan, { ...options, spread: true, namespace: 'lab', controller: { args: ['scenario', name] } }),
          ['h'],
        ),
      );
      for (const doc of docs) {
        const Model = MODELS[doc.kind];
        expect(Model, `${name}: ${doc.kind}`).toBeDefined();
        expect(() => new Model!(doc as never).validate(), `${name}: ${doc.kind} ${doc.metadata.name}`).not.toThrow();
      }
      expect(byKind(docs, 'Pod')).toHaveLength(Object.keys(plan.hosts).length + 1);
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('the schemas do refuse a malformed object: the check above can fail', () => {
    expect(() =>
      new Pod({
        metadata: { name: 'x' },
        spec: { containers: [{ name: 'a', image: 'i', command: [1 as never] }] },
      }).validate(),
    ).toThrow(/must be string/);
  });

  it('short-conn: a pod per host with its agent on TCP, its sysctls, labels; the token in a Secret; the plan in a ConfigMap', async () => {
    const plan = await loadPlan('short-conn', {}, { driver: 'attached' });
    const { docs, text } = await kubeFile('short-conn');
    expect(text.startsWith('# The lab of scenario short-conn as Kubernetes objects')).toBe(true);
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
      'Secret/wl-short-conn-token',
      'ConfigMap/wl-short-conn-plan',
      'NetworkPolicy/wl-short-conn-lab-only',
      'Service/wl-short-conn-client',
      'Service/wl-short-conn-server',
      'Pod/wl-short-conn-client',
      'Pod/wl-short-conn-server',
      'Pod/wl-short-conn-controller',
    ]);
    for (const doc of docs)
      expect(doc.metadata.labels).toMatchObject({
        'io.waitlab.lab': 'wl-short-conn',
        'io.waitlab.scenario': 'short-conn',
      });
    const [secret, configMap] = docs;
    expect(secret.stringData.token).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(configMap.data['plan.json'])).toEqual(JSON.parse(JSON.stringify(plan)));
    for (const host of Object.values(plan.hosts)) {
      const pod = docs.find((d) => d.kind === 'Pod' && d.metadata.labels['io.waitlab.host'] === host.name);
      expect(pod.spec.securityContext?.sysctls ?? []).toEqual(
        Object.entries(host.sysctls).map(([name, value]) => ({ name, value })),
      );
      const [agent] = pod.spec.containers;
      expect(agent.command).toEqual(['node', '/opt/waitlab/dist/agent/main.js', '--tcp', String(AGENT_TCP_PORT)]);
      expect(agent.env).toContainEqual({
        name: 'WAITLAB_AGENT_TOKEN',
        valueFrom: { secretKeyRef: { name: 'wl-short-conn-token', key: 'token' } },
      });
      // No ports list: podman kube play would publish it on the machine.
      expect(agent.ports).toBeUndefined();
      expect(pod.spec.affinity).toBeUndefined();
    }
    expect(
      byKind(docs, 'Pod').find((d) => d.metadata.name === 'wl-short-conn-client').spec.securityContext.sysctls,
    ).toContainEqual({ name: 'net.ipv4.ip_local_port_range', value: '40000 40999' });
    const controller = docs.at(-1);
    expect(controller.spec.containers[0].command).toEqual([
      'node',
      '/opt/waitlab/bin/waitlab.js',
      'scenario',
      'short-conn',
      '--driver',
      'attached',
      '--no-progress',
      '--json',
      '--out',
      '/reports/run',
    ]);
    expect(controller.spec.volumes).toEqual([{ name: 'reports', emptyDir: {} }]);
    // It reaches each agent at its host's Service name, which it makes from the lab's name.
    expect(controller.spec.containers[0].env).toContainEqual({ name: 'WAITLAB_KUBE_LAB', value: 'wl-short-conn' });
    expect(byKind(docs, 'Service').map((s) => s.metadata.name)).toEqual([
      'wl-short-conn-client',
      'wl-short-conn-server',
    ]);
  });

  it("keeps lab traffic between the lab's pods (NetworkPolicy both ways), and --spread puts each host on its own node", async () => {
    const { docs } = await kubeFile('short-conn', { spread: true, namespace: 'waitlab-lab' });
    const [policy] = byKind(docs, 'NetworkPolicy');
    const lab = { podSelector: { matchLabels: { 'io.waitlab.lab': 'wl-short-conn' } } };
    expect(policy.spec).toEqual({
      ...lab,
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [lab] }],
      egress: [
        { to: [lab] },
        {
          to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    });
    for (const doc of docs) expect(doc.metadata.namespace).toBe('waitlab-lab');
    for (const pod of byKind(docs, 'Pod').filter((p) => p.metadata.labels['io.waitlab.role'] === 'host')) {
      expect(pod.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
        {
          labelSelector: { matchLabels: { 'io.waitlab.lab': 'wl-short-conn', 'io.waitlab.role': 'host' } },
          topologyKey: 'kubernetes.io/hostname',
        },
      ]);
    }
  });

  it('--scale client=3 is three client pods, each its own host name; only pods go to podman kube play', async () => {
    const { docs } = await kubeFile('short-conn', { scale: ['client=3'] });
    const hosts = byKind(docs, 'Pod').filter((p) => p.metadata.labels['io.waitlab.role'] === 'host');
    expect(hosts.map((p) => [p.metadata.name, p.spec.hostname, p.metadata.labels['io.waitlab.host']])).toEqual([
      ['wl-short-conn-client', 'client', 'client'],
      ['wl-short-conn-server', 'server', 'server'],
      ['wl-short-conn-client-2', 'client-2', 'client_2'],
      ['wl-short-conn-client-3', 'client-3', 'client_3'],
    ]);
    expect(docs.at(-1).spec.containers[0].command).toEqual(expect.arrayContaining(['--scale', 'client=3']));
    expect(kubePods(docs).map((d: Doc) => d.kind)).toEqual(['Pod', 'Pod', 'Pod', 'Pod', 'Pod']);
  });
});

describe('many replicas as pods', () => {
  it('--scale client=40 is 40 client pods (a pod each, no agent of this machine per replica), their sysctls said once', async () => {
    const { docs, stderr } = await kubeFile('short-conn', { scale: ['client=40'] });
    const clients = byKind(docs, 'Pod').filter((p) => p.metadata.labels['io.waitlab.host']?.startsWith('client'));
    expect(clients).toHaveLength(40);
    expect(stderr).toContain('net.ipv4.tcp_tw_reuse=0 on client, client_2, client_3, ... (40 hosts)');
    // The same plan on this machine's own agents is still capped: 16 agents, or grouped native clients.
    await expect(loadPlan('short-conn', {}, { scale: { client: 40 } })).rejects.toThrow(/more than 16 replicas/);
  });
});

describe('sysctls as Kubernetes sees them', () => {
  it('names the unsafe ones and the kubelet flag, in the header and on stderr; the safe ones pass', async () => {
    const plan = await loadPlan('short-conn', {}, { driver: 'attached' });
    const unsafe = unsafeSysctls(plan);
    expect(unsafe.map((u) => u.name).sort()).toEqual(['net.ipv4.tcp_rfc1337', 'net.ipv4.tcp_tw_reuse']);
    expect(kubeletFlagFor(unsafe)).toBe('--allowed-unsafe-sysctls=net.ipv4.tcp_rfc1337,net.ipv4.tcp_tw_reuse');
    const { text, stderr } = await kubeFile('short-conn');
    expect(text).toContain(
      '# The kubelet refuses these pods (SysctlForbidden) unless the nodes they run on start with --allowed-unsafe-sysctls=net.ipv4.tcp_rfc1337,net.ipv4.tcp_tw_reuse',
    );
    expect(stderr).toContain('--allowed-unsafe-sysctls=net.ipv4.tcp_rfc1337,net.ipv4.tcp_tw_reuse');
    expect(stderr).not.toContain('ip_local_port_range');
    // Pod Security's baseline admits the safe set only, as the kubelet does.
    expect(text).toContain('pod-security.kubernetes.io/enforce=privileged');
  });

  it("tells how to get the result as a cluster gives it: report.json the log's last line, the run directory gone with the pod", async () => {
    const { text } = await kubeFile('short-conn');
    expect(text).toContain('#   kubectl logs wl-short-conn-controller | tail -n 1 > report.json');
    expect(text).not.toContain('kubectl cp wl-');
    expect(text).toContain('mount a PersistentVolumeClaim at /reports to keep it');
  });

  it('says when a safe sysctl is safe only on a recent kubelet', async () => {
    const plan = await loadPlan(
      'short-conn',
      {},
      { driver: 'attached', sysctls: ['client:net.ipv4.tcp_fin_timeout=5'] },
    );
    expect(unsafeSysctlLines(plan).at(-1)).toBe(
      'Safe only on a recent kubelet (net.ipv4.tcp_fin_timeout from 1.29): an older one refuses them as unsafe.',
    );
  });

  it('--strict-safe refuses a scenario with unsafe sysctls (a usage error, exit 2) and writes nothing', async () => {
    const out = join(tempDir('waitlab-kube-'), 'lab.yaml');
    await expect(
      kubeCommand({ scenario: 'short-conn', set: [], sysctl: [], scale: [], spread: false, strictSafe: true, out }),
    ).rejects.toThrow(UsageError);
    await expect(
      kubeCommand({ scenario: 'short-conn', set: [], sysctl: [], scale: [], spread: false, strictSafe: true, out }),
    ).rejects.toThrow(/--strict-safe: .*tcp_tw_reuse/);
    expect(() => readFileSync(out)).toThrow(/ENOENT/);
  });

  it('refuses a namespace that is not a DNS label and a scenario of several networks', async () => {
    await expect(kubeFile('short-conn', { namespace: 'Bad_NS' })).rejects.toThrow(/not a Kubernetes namespace name/);
    await expect(kubeFile('nat-single-source')).rejects.toThrow(/declares networks/);
  });
});
