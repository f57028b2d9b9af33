// `waitlab kube <scenario>`: the scenario's lab as Kubernetes objects in one file, for `kubectl apply -f`: a pod
// per host running its agent on TCP, a controller pod that runs the scenario against them and prints report.json
// (`kubectl logs`), the plan in a ConfigMap, the run's token in a Secret, and a NetworkPolicy. Sysctls outside
// Kubernetes' safe set are named with the kubelet flag they need; --strict-safe refuses them.
import { randomBytes } from 'node:crypto';
import { basename, dirname } from 'node:path';
import type { Argv } from 'yargs';
import { UsageError } from '../core/errors.ts';
import { PACKAGE_VERSION, SCENARIOS_DIR } from '../core/paths.ts';
import { composeRefusals } from '../lab/compose-file.ts';
import { CONTROLLER_RUN_DIR, kubeDocuments, kubeYaml, KUBE_NAMESPACE } from '../lab/kube-file.ts';
import { unsafeSysctlLines, unsafeSysctls } from '../lab/kube-sysctls.ts';
import { labImage } from '../lab/lab-image.ts';
import { loadPlan, parseOverrides } from '../plan/load-plan.ts';
import { BUILT_IN_PROFILES, loadProfile } from '../plan/profiles.ts';
import { scaleOf } from '../plan/replicas.ts';
import { scenarioFile } from '../plan/scenario-file.ts';
import { writeWhole } from '../outputs/registry.ts';
import { EXIT } from './exit-codes.ts';
import { planOptions } from './plan-options.ts';

export interface KubeArgs {
  scenario: string;
  set: string[];
  sysctl: string[];
  scale: string[];
  profile?: string;
  namespace?: string;
  image?: string;
  spread: boolean;
  strictSafe: boolean;
  out?: string;
}

export function kubeOptions(y: Argv) {
  return planOptions(
    y.positional('scenario', { type: 'string', demandOption: true, describe: 'a catalogue scenario' }),
    { replica: 'a pod each, up to 200', profiles: 'one-built-in' },
  )
    .option('namespace', {
      type: 'string',
      describe: "the Kubernetes namespace of every object (default: kubectl's current one)",
    })
    .option('image', {
      type: 'string',
      describe:
        'the image every pod runs (WAITLAB_IMAGE; default localhost/waitlab:<version>, built from the Dockerfile)',
    })
    .option('spread', {
      type: 'boolean',
      default: false,
      describe: "each host's pod on its own node (required pod anti-affinity)",
    })
    .option('strict-safe', {
      type: 'boolean',
      default: false,
      describe: "refuse a scenario that sets a sysctl outside Kubernetes' safe set (exit 2)",
    })
    .option('out', { type: 'string', describe: 'write the file here (default: stdout)' });
}

/** Every object's name prefix: wl-<scenario>, cut to what a label value and a pod's host name allow. */
export function kubeLabName(scenario: string): string {
  return `wl-${scenario}`.slice(0, 40).replace(/-+$/, '');
}

export async function kubeCommand(argv: KubeArgs): Promise<number> {
  if (argv.profile !== undefined && !BUILT_IN_PROFILES.some((p) => p.name === argv.profile)) {
    throw new UsageError(
      `waitlab kube takes a built-in profile (${BUILT_IN_PROFILES.map((p) => p.name).join(', ')}): the controller pod cannot read a profile file of this machine`,
    );
  }
  if (argv.namespace !== undefined && !KUBE_NAMESPACE.test(argv.namespace))
    throw new UsageError(`--namespace "${argv.namespace}" is not a Kubernetes namespace name (a DNS-1123 label)`);
  if (dirname(scenarioFile(argv.scenario)) !== SCENARIOS_DIR) {
    throw new UsageError(
      `waitlab kube takes a catalogue scenario: the controller pod runs the image's own catalogue, and ${basename(argv.scenario)} is not in it`,
    );
  }
  const profile = argv.profile === undefined ? undefined : loadProfile(argv.profile);
  const plan = await loadPlan(argv.scenario, parseOverrides(argv.set), {
    driver: 'attached',
    sysctls: argv.sysctl,
    scale: scaleOf(argv.scale),
    ...(profile ? { profile } : {}),
  });
  // One network, no routes: what the compose lab refuses, a pod network cannot give either.
  const refusals = composeRefusals(plan, 'a Kubernetes lab');
  if (refusals.length) throw new UsageError(refusals.join('; '));

  const unsafe = unsafeSysctlLines(plan);
  if (unsafeSysctls(plan).length && argv.strictSafe) throw new UsageError(`--strict-safe: ${unsafe.join(' ')}`);
  const passed = [
    ...argv.set.flatMap((s) => ['--set', s]),
    ...argv.sysctl.flatMap((s) => ['--sysctl', s]),
    ...argv.scale.flatMap((s) => ['--scale', s]),
    ...(argv.profile ? ['--profile', argv.profile] : []),
  ];
  const lab = kubeLabName(plan.scenario.name);
  const image = labImage(argv.image);
  const header = [
    `The lab of scenario ${plan.scenario.name} as Kubernetes objects, written by \`waitlab kube ${[plan.scenario.name, ...passed].join(' ')}\` (waitlab ${PACKAGE_VERSION}).`,
    `A pod per host runs its agent; ${lab}-controller runs the scenario against them and prints report.json last.`,
    `  kubectl apply -f FILE; kubectl wait --for=jsonpath='{.status.phase}'=Succeeded pod/${lab}-controller --timeout=10m`,
    // kubectl logs interleaves the container's stderr (the summary) with its stdout: report.json is the last line.
    `  kubectl logs ${lab}-controller | tail -n 1 > report.json`,
    `  kubectl delete all,configmap,secret,networkpolicy -l io.waitlab.lab=${lab}`,
    `The run directory (${CONTROLLER_RUN_DIR}) is on the controller's emptyDir and goes with the pod (kubectl cp cannot reach a pod that has ended): mount a PersistentVolumeClaim at ${dirname(CONTROLLER_RUN_DIR)} to keep it.`,
    `The ConfigMap ${lab}-plan holds the resolved plan, to read: the controller resolves the same one from its image's catalogue and its arguments.`,
    `Every pod runs image ${image}: push it where the nodes pull from (docs/kubernetes.md). The Secret holds this file's own token.`,
    ...(unsafeSysctls(plan).length ? [] : ["Every sysctl of the scenario is in Kubernetes' safe set."]),
    ...unsafe,
    ...(unsafeSysctls(plan).length
      ? [
          "A namespace that enforces Pod Security's baseline or restricted level refuses them too (sysctls outside the safe set): run the lab in a namespace labelled pod-security.kubernetes.io/enforce=privileged.",
        ]
      : []),
  ];
  const text = kubeYaml(
    kubeDocuments(plan, {
      lab,
      image,
      token: randomBytes(32).toString('hex'),
      pullPolicy: 'IfNotPresent',
      spread: argv.spread,
      ...(argv.namespace ? { namespace: argv.namespace } : {}),
      controller: {
        args: [
          'scenario',
          plan.scenario.name,
          '--driver',
          'attached',
          '--no-progress',
          '--json',
          '--out',
          CONTROLLER_RUN_DIR,
          ...passed,
        ],
      },
      labels: { 'io.waitlab.scenario': plan.scenario.name },
    }),
    header,
  );
  for (const line of unsafe) process.stderr.write(`waitlab kube: ${line}\n`);
  if (argv.out) writeWhole(argv.out, text);
  else process.stdout.write(text);
  return EXIT.OK;
}
