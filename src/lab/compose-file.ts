// A plan as a compose file: one service per host, each running that host's agent, waiting for its controller
// on a unix socket in a directory shared with it; the host's sysctls as the service's `sysctls:` (the runtime
// writes them inside the container's own network namespace, never the machine's); one internal network on the
// plan's 198.18.0.0/24 with every host at its planned address. `waitlab compose` writes it for users (with a
// controller service, so `docker compose up` runs the scenario); the compose driver runs it.
import { InvalidValueError } from '../core/errors.ts';
import type { Plan } from '../core/plan.ts';
import { actorKind } from '../actors/registry.ts';
import { composeYaml, type YamlValue } from './compose-yaml.ts';

/** Where the image holds waitlab (Dockerfile's WORKDIR) and where each container sees the agents' directory. */
export const IMAGE_ROOT = '/opt/waitlab';
export const AGENTS_DIR_IN_CONTAINER = '/waitlab/agents';
/** A plain lab's one network, as the netns driver names it. */
export const LAB_NETWORK = 'lab';
/** Where the controller service sees a scenario file's own directory, for a scenario outside the catalogue. */
export const USER_SCENARIOS_IN_CONTAINER = '/waitlab/scenarios';
export const LAB_LABEL = 'io.waitlab.lab';
/**
 * Every container's open-files limit unless its host sets limits.nofile: a runtime refuses a limit above its own
 * hard limit (runc: "error setting rlimit type 7: operation not permitted"), and Podman's default is 1048576.
 */
export const DEFAULT_NOFILE = 16384;
/** Podman's default RLIMIT_NPROC is refused the same way where the machine's hard limit is lower (type 6). */
export const DEFAULT_NPROC = 32768;

/** An image reference (registry/name:tag): nothing a YAML document or a command line could read as more. */
export const IMAGE_REF = /^[a-z0-9][a-z0-9._/-]{0,200}(:[A-Za-z0-9_.-]{1,128})?$/;
/** A network name a compose file may point at. */
const NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface ComposeOptions {
  /** The image every service runs: built from the Dockerfile, waitlab at IMAGE_ROOT. */
  image: string;
  /** Build the image from this context first (`docker compose up --build`), with these build arguments. */
  build?: { context: string; args?: Readonly<Record<string, string>> };
  /** The agents' sockets: a directory of this machine bind-mounted in (the driver), or a named volume (a controller service). */
  agents: { bind: string } | { volume: string };
  /** The lab network: made beforehand by the driver (external), or by compose itself. */
  network: { external: string } | { create: true };
  /** A controller service, so `compose up` alone runs the scenario: its waitlab arguments and the reports directory. */
  controller?: {
    args: readonly string[];
    reports: string /** A scenario file's directory outside the catalogue, mounted read-only. */;
    scenarios?: string;
  };
  /** Labels on every service, so whatever a dead run leaves is found again. */
  labels?: Readonly<Record<string, string>>;
}

/**
 * What a compose lab cannot build of a plan: more than the one network, routes, gateways. Empty: it can. `lab`: how
 * the refusal names the lab that cannot be built ("the compose lab", "a Kubernetes lab").
 */
export function composeRefusals(plan: Plan, lab = 'the compose lab'): string[] {
  const refusals: string[] = [];
  // Its network is rendered with an IPv4 subnet and ipv4_address per service only: an IPv6 plan would build a lab
  // without the addresses its actors connect to.
  if (plan.family)
    refusals.push(
      `scenario ${plan.scenario.name} asks for family ${plan.family}; ${lab} addresses hosts from 198.18.0.0/15 only: use --driver netns`,
    );
  if (plan.networks)
    refusals.push(
      `scenario ${plan.scenario.name} declares networks (${Object.keys(plan.networks).join(', ')}); ${lab} builds one network: use --driver netns`,
    );
  for (const host of Object.values(plan.hosts)) {
    if (host.routes?.length || host.gateway)
      refusals.push(
        `host ${host.name} routes or forwards between networks; ${lab} builds one network: use --driver netns`,
      );
  }
  for (const actor of Object.values(plan.actors)) {
    const refusal = actorKind(actor.kind)?.composeRefusal;
    if (refusal) refusals.push(`actor ${actor.name} (${actor.kind}) ${refusal}`);
  }
  return refusals;
}

/** The plan's one /24 (every host of a plain lab is on it). */
export function labSubnet(plan: Plan): { subnet: string; gateway: string } {
  const first = Object.values(plan.hosts)[0]!;
  const base = first.address.split('.').slice(0, 3).join('.');
  const used = new Set(Object.values(plan.hosts).map((h) => h.address));
  // The runtime keeps the gateway address for itself (Docker puts it on the bridge; CNI's host-local reserves it):
  // the highest address no host has.
  let last = 254;
  while (used.has(`${base}.${last}`)) last--;
  return { subnet: `${base}.0/24`, gateway: `${base}.${last}` };
}

/**
 * A mount in compose's long syntax: the short one ("source:target:ro") splits on every `:`, so a path holding
 * one (a scenario's directory) would make another mount, or an invalid file.
 */
function mount(type: 'bind' | 'volume', source: string, target: string, readOnly = false): YamlValue {
  return { type, source, target, ...(readOnly ? { read_only: true } : {}) };
}

function agentSocket(host: string): string {
  return `${AGENTS_DIR_IN_CONTAINER}/${host}.sock`;
}

export function composeDocument(plan: Plan, options: ComposeOptions): YamlValue {
  if (!IMAGE_REF.test(options.image))
    throw new InvalidValueError(`"${options.image}" is not an image reference (name[:tag])`);
  if ('external' in options.network && !NETWORK_NAME.test(options.network.external))
    throw new InvalidValueError(`"${options.network.external}" is not a network name`);
  const agentsMount =
    'bind' in options.agents
      ? mount('bind', options.agents.bind, AGENTS_DIR_IN_CONTAINER)
      : mount('volume', options.agents.volume, AGENTS_DIR_IN_CONTAINER);
  const image = {
    image: options.image,
    ...(options.build
      ? {
          build: { context: options.build.context, ...(options.build.args ? { args: { ...options.build.args } } : {}) },
        }
      : {}),
  };
  const services: Record<string, YamlValue> = {};
  const ulimits = (nofile: number) => ({
    nofile: { soft: nofile, hard: nofile },
    nproc: { soft: DEFAULT_NPROC, hard: DEFAULT_NPROC },
  });
  for (const host of Object.values(plan.hosts)) {
    services[host.name] = {
      ...image,
      // The agent waits for its controller as long as agent/main.ts says (10 minutes), then exits.
      command: ['node', `${IMAGE_ROOT}/dist/agent/main.js`, '--socket', agentSocket(host.name)],
      // List form: podman-compose 1.0 takes no other; Docker Compose takes both.
      sysctls: Object.keys(host.sysctls).length ? Object.entries(host.sysctls).map(([k, v]) => `${k}=${v}`) : undefined,
      ulimits: ulimits(host.limits?.nofile ?? DEFAULT_NOFILE),
      networks: { [LAB_NETWORK]: { ipv4_address: host.address } },
      volumes: [agentsMount],
      labels: { ...options.labels, 'io.waitlab.host': host.name },
    };
  }
  if (options.controller) {
    services['waitlab'] = {
      ...image,
      // The controller talks to the agents over their sockets only: it needs no network at all.
      network_mode: 'none',
      working_dir: '/',
      ulimits: ulimits(DEFAULT_NOFILE),
      command: ['node', `${IMAGE_ROOT}/bin/waitlab.js`, ...options.controller.args],
      volumes: [
        agentsMount,
        mount('bind', options.controller.reports, '/reports'),
        ...(options.controller.scenarios
          ? [mount('bind', options.controller.scenarios, USER_SCENARIOS_IN_CONTAINER, true)]
          : []),
      ],
      depends_on: Object.keys(plan.hosts),
      labels: { ...options.labels },
    };
  }
  const { subnet, gateway } = labSubnet(plan);
  return {
    services,
    networks: {
      [LAB_NETWORK]:
        'external' in options.network
          ? { external: true, name: options.network.external }
          : // internal: no route out and no NAT. A non-internal network would also switch the machine's own
            // net.ipv4.ip_forward to 1 (seen with Podman), and the lab must leave the machine as it found it.
            { internal: true, ipam: { config: [{ subnet, gateway }] }, labels: { ...options.labels } },
    },
    ...('volume' in options.agents ? { volumes: { [options.agents.volume]: { labels: { ...options.labels } } } } : {}),
  };
}

export function composeFile(plan: Plan, options: ComposeOptions, header: readonly string[]): string {
  return composeYaml(composeDocument(plan, options), header);
}
