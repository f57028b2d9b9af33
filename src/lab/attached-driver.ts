// A lab that is already running: the services of `docker compose up` (or `podman-compose up`) from a file that
// `waitlab compose` wrote, each host's agent waiting on <agents dir>/<host>.sock. This run builds nothing and
// removes nothing: it reaches the agents, runs the plan, and ends them; the compose tool owns the containers.
// The controller pod of a file from `waitlab kube` attaches the same way over TCP: its environment holds the
// run's token, the agents' port and the lab's name (WAITLAB_AGENT_TOKEN, WAITLAB_AGENT_PORT, WAITLAB_KUBE_LAB), and
// each agent is at its host's headless Service name, wherever the CNI put its pod: the hosts' addresses are learned
// from the agents. Without a lab's name, each agent is at its host's planned address.
import { existsSync, statSync } from 'node:fs';
import { InvalidValueError } from '../core/errors.ts';
import { join } from 'node:path';
import { connectAgent, connectAgentTcp } from './agent-socket.ts';
import { AGENTS_DIR_IN_CONTAINER, composeRefusals } from './compose-file.ts';
import type { Lab, LabDriver, LabHost } from './driver.ts';
import { AGENT_TOKEN, TOKEN_ENV } from '../core/agent-token.ts';
import { AGENT_PORT_ENV, KUBE_LAB_NAME, LAB_ENV, podName } from './kube-file.ts';

/** How long an agent's container may take to start and open its socket. */
const ATTACH_TIMEOUT_MS = 120_000;

function agentsDir(): string {
  return process.env['WAITLAB_AGENTS_DIR'] ?? AGENTS_DIR_IN_CONTAINER;
}

/** The agents' port, the run's token and the lab's name when the agents listen on TCP (a kube file's controller pod); undefined otherwise. */
function tcpAgents(): { port: number; token: string; lab?: string } | undefined {
  const token = process.env[TOKEN_ENV];
  if (token === undefined) return undefined;
  const port = Number(process.env[AGENT_PORT_ENV]);
  if (!AGENT_TOKEN.test(token) || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new InvalidValueError(`${TOKEN_ENV} must be 64 hex digits and ${AGENT_PORT_ENV} a port`);
  const lab = process.env[LAB_ENV];
  if (lab !== undefined && !KUBE_LAB_NAME.test(lab))
    throw new InvalidValueError(`${LAB_ENV} ${JSON.stringify(lab)} is not a lab name of \`waitlab kube\``);
  return { port, token, ...(lab !== undefined ? { lab } : {}) };
}

export const attachedDriver: LabDriver = {
  name: 'attached',
  describe: `hosts already running, each agent waiting on a socket in ${AGENTS_DIR_IN_CONTAINER} (WAITLAB_AGENTS_DIR): the controller service of a compose file from \`waitlab compose\``,
  preflight(plan) {
    const dir = agentsDir();
    const problems = plan ? composeRefusals(plan) : [];
    if (plan?.capture)
      problems.push(
        '--capture runs tcpdump in each host, which the attached lab cannot start: use --driver netns or compose',
      );
    if (tcpAgents()) return problems;
    if (!dir.startsWith('/') || !existsSync(dir) || !statSync(dir).isDirectory())
      problems.push(
        `no agents' directory at ${dir}: run this inside the controller service of a compose file that \`waitlab compose\` wrote`,
      );
    return problems;
  },
  withPrivileges: async () => undefined,
  reap: async () => [],
  async build(plan, log) {
    const dir = agentsDir();
    const tcp = tcpAgents();
    const hosts: Record<string, LabHost> = {};
    // A pod's Service name where the lab has one (a cluster's DNS finds the pod), else the planned address.
    const reach = (host: string, address: string) => (tcp?.lab ? podName(tcp.lab, host) : address);
    for (const host of Object.values(plan.hosts))
      hosts[host.name] = {
        name: host.name,
        address: host.address,
        location: tcp ? `${reach(host.name, host.address)}:${tcp.port}` : join(dir, `${host.name}.sock`),
      };
    log('attaching to running agents', { ...(tcp ? { port: tcp.port } : { dir }), hosts: Object.keys(hosts) });
    return {
      id: tcp ? `attached:tcp:${tcp.port}` : `attached:${dir}`,
      driver: 'attached',
      hosts,
      addressesFromAgents: tcp?.lab !== undefined,
      uncontrolled: [
        "the hosts were started outside this run (compose up): their sysctls and limits are the services' own, each read back by its agent",
      ],
      spawnAgent(host) {
        return tcp
          ? connectAgentTcp(reach(host, hosts[host]!.address), tcp.port, tcp.token, ATTACH_TIMEOUT_MS)
          : connectAgent(hosts[host]!.location, ATTACH_TIMEOUT_MS);
      },
      async teardown() {
        // Nothing to close: each agent exits when its connection ends, which is when this process exits, so that
        // the controller's container is the first to exit (`compose up --exit-code-from waitlab`) and only
        // after its report is written.
      },
    } satisfies Lab;
  },
};
