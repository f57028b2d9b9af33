// A plan as Kubernetes objects in one YAML file: a Pod per lab host running its agent (listening on TCP for its
// controller, with the run's token), the host's sysctls in the pod's securityContext, a headless Service per host
// (a stable name for the pod), the resolved plan in a ConfigMap, the token in a Secret, a NetworkPolicy that keeps
// lab traffic between the lab's own pods and, when asked, a controller Pod that runs the scenario against the
// agents, prints report.json as its last output (`kubectl logs`) and keeps the run directory in a volume.
// `waitlab kube` writes it for a cluster; the kube driver plays it here with `podman kube play`.
import { AGENT_TOKEN, TOKEN_ENV } from '../core/agent-token.ts';
import { InvalidValueError } from '../core/errors.ts';
import type { HostPlan, Plan } from '../core/plan.ts';
import { composeYaml, type YamlValue } from './compose-yaml.ts';
import { IMAGE_REF, IMAGE_ROOT, LAB_LABEL } from './compose-file.ts';

export const HOST_LABEL = 'io.waitlab.host';
export const ROLE_LABEL = 'io.waitlab.role';
/** Where each agent listens for its controller in its pod. */
export const AGENT_TCP_PORT = 7411;
/** Where the controller pod keeps its run directory. */
export const CONTROLLER_RUN_DIR = '/reports/run';
export const TOKEN_KEY = 'token';
export const AGENT_PORT_ENV = 'WAITLAB_AGENT_PORT';
/** The lab's name, in the controller pod: each host's agent is at its headless Service, podName(lab, host). */
export const LAB_ENV = 'WAITLAB_KUBE_LAB';

/** A lab name that every object's name starts with, and a label value: DNS-1123 and at most 40 characters. */
export const KUBE_LAB_NAME = /^[a-z][a-z0-9-]{0,38}[a-z0-9]$/;
/** A Kubernetes namespace name (a DNS-1123 label). */
export const KUBE_NAMESPACE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export interface KubeOptions {
  /** Every object's name starts with it; every object carries it as io.waitlab.lab. */
  lab: string;
  image: string;
  token: string;
  namespace?: string;
  /** Each host's pod on its own node: required anti-affinity on the lab's label. */
  spread?: boolean;
  /** IfNotPresent for a cluster; Never where no image may be pulled (podman kube play here). */
  pullPolicy: 'IfNotPresent' | 'Never';
  /** A controller pod running `waitlab <args>` (scenario <name> --driver attached ...). */
  controller?: { args: readonly string[] };
  /** More labels on every object (the scenario's name). */
  labels?: Readonly<Record<string, string>>;
}

/** A host name as part of an object name: client_2 becomes client-2 (DNS-1123 has no underscore). */
export function podName(lab: string, host: string): string {
  return `${lab}-${host.replaceAll('_', '-')}`;
}

function checkOptions(options: KubeOptions): void {
  if (!KUBE_LAB_NAME.test(options.lab))
    throw new InvalidValueError(
      `"${options.lab}" is not a lab name for Kubernetes objects (2-40 lower-case letters, digits and dashes)`,
    );
  if (!IMAGE_REF.test(options.image))
    throw new InvalidValueError(`"${options.image}" is not an image reference (name[:tag])`);
  if (!AGENT_TOKEN.test(options.token)) throw new InvalidValueError('the agent token is not 64 hex digits');
  if (options.namespace !== undefined && !KUBE_NAMESPACE.test(options.namespace))
    throw new InvalidValueError(`"${options.namespace}" is not a Kubernetes namespace name`);
}

function metadata(name: string, options: KubeOptions, labels: Record<string, string> = {}): YamlValue {
  return {
    name,
    ...(options.namespace ? { namespace: options.namespace } : {}),
    labels: { 'app.kubernetes.io/part-of': 'waitlab', [LAB_LABEL]: options.lab, ...options.labels, ...labels },
  };
}

/** Kubernetes expands $(VAR) in a container's command and env values, and reads $$ as one $. */
function literal(text: string): string {
  return text.replaceAll('$', '$$$$');
}

function tokenEnv(options: KubeOptions): YamlValue[] {
  return [
    { name: TOKEN_ENV, valueFrom: { secretKeyRef: { name: `${options.lab}-token`, key: TOKEN_KEY } } },
    { name: AGENT_PORT_ENV, value: String(AGENT_TCP_PORT) },
  ];
}

function hostPod(host: HostPlan, options: KubeOptions): YamlValue {
  const sysctls = Object.entries(host.sysctls).map(([name, value]) => ({ name, value }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...(metadata(podName(options.lab, host.name), options, {
        [HOST_LABEL]: host.name,
        [ROLE_LABEL]: 'host',
      }) as Record<string, YamlValue>),
      // Kubernetes has no per-pod open-files limit: the node's container runtime sets it. Said here for whoever runs it.
      ...(host.limits?.nofile ? { annotations: { 'io.waitlab.nofile': String(host.limits.nofile) } } : {}),
    },
    spec: {
      restartPolicy: 'Never',
      // The plan's host name is the pod's: the agent reports under it.
      hostname: host.name.replaceAll('_', '-'),
      ...(sysctls.length ? { securityContext: { sysctls } } : {}),
      ...(options.spread
        ? {
            affinity: {
              podAntiAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [
                  {
                    labelSelector: { matchLabels: { [LAB_LABEL]: options.lab, [ROLE_LABEL]: 'host' } },
                    topologyKey: 'kubernetes.io/hostname',
                  },
                ],
              },
            },
          }
        : {}),
      containers: [
        {
          name: 'agent',
          image: options.image,
          imagePullPolicy: options.pullPolicy,
          // The agent waits for its controller as long as agent/main.ts says (10 minutes), then exits.
          command: ['node', `${IMAGE_ROOT}/dist/agent/main.js`, '--tcp', String(AGENT_TCP_PORT)],
          // No `ports:` list: Kubernetes does not need one to reach a pod's port, and `podman kube play` (4.3)
          // publishes every containerPort on the machine's own addresses.
          env: tokenEnv(options),
        },
      ],
    },
  };
}

function hostService(host: HostPlan, options: KubeOptions): YamlValue {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(podName(options.lab, host.name), options, { [HOST_LABEL]: host.name }),
    spec: {
      clusterIP: 'None',
      selector: { [LAB_LABEL]: options.lab, [HOST_LABEL]: host.name },
      ports: [{ name: 'agent', port: AGENT_TCP_PORT, targetPort: AGENT_TCP_PORT, protocol: 'TCP' }],
    },
  };
}

function controllerPod(args: readonly string[], options: KubeOptions): YamlValue {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: metadata(`${options.lab}-controller`, options, { [ROLE_LABEL]: 'controller' }),
    spec: {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'waitlab',
          image: options.image,
          imagePullPolicy: options.pullPolicy,
          command: ['node', `${IMAGE_ROOT}/bin/waitlab.js`, ...args.map(literal)],
          env: [...tokenEnv(options), { name: LAB_ENV, value: options.lab }],
          volumeMounts: [{ name: 'reports', mountPath: '/reports' }],
        },
      ],
      volumes: [{ name: 'reports', emptyDir: {} }],
    },
  };
}

const CLUSTER_DNS = { namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } };
const DNS_PORTS = [
  { protocol: 'UDP', port: 53 },
  { protocol: 'TCP', port: 53 },
];

function networkPolicy(options: KubeOptions): YamlValue {
  const lab = { podSelector: { matchLabels: { [LAB_LABEL]: options.lab } } };
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: metadata(`${options.lab}-lab-only`, options),
    spec: {
      ...lab,
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [lab] }],
      // The controller finds each agent by its Service name: DNS to the cluster's resolver (CoreDNS keeps the
      // kube-dns label), and nothing else outside the lab.
      egress: [{ to: [lab] }, { to: [CLUSTER_DNS], ports: DNS_PORTS }],
    },
  };
}

/** The file's objects in the order `kubectl apply -f` creates them: what the pods refer to first. */
export function kubeDocuments(plan: Plan, options: KubeOptions): YamlValue[] {
  checkOptions(options);
  const hosts = Object.values(plan.hosts);
  return [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: metadata(`${options.lab}-token`, options),
      type: 'Opaque',
      stringData: { [TOKEN_KEY]: options.token },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: metadata(`${options.lab}-plan`, options),
      data: { 'plan.json': JSON.stringify(plan, null, 2) },
    },
    networkPolicy(options),
    ...hosts.map((h) => hostService(h, options)),
    ...hosts.map((h) => hostPod(h, options)),
    ...(options.controller ? [controllerPod(options.controller.args, options)] : []),
  ];
}

/** Only the pods (hosts, then the controller): what `podman kube play` is given. */
export function kubePods(documents: readonly YamlValue[]): YamlValue[] {
  return documents.filter((d) => (d as { kind?: string }).kind === 'Pod');
}

export function kubeYaml(documents: readonly YamlValue[], header: readonly string[]): string {
  return documents.map((d, i) => composeYaml(d, i === 0 ? header : [], false)).join('---\n');
}
