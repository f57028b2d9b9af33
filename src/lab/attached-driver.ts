// A lab that is already running: the services of `docker compose up` (or `podman-compose up`) from a file that
// `waitlab compose` wrote, each host's agent waiting on <agents dir>/<host>.sock. This run builds nothing and
// removes nothing: it reaches the agents, runs the plan, and ends them; the compose tool owns the containers.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { connectAgent } from './agent-socket.ts';
import { AGENTS_DIR_IN_CONTAINER, composeRefusals } from './compose-file.ts';
import type { Lab, LabDriver, LabHost } from './driver.ts';

/** How long an agent's container may take to start and open its socket. */
const ATTACH_TIMEOUT_MS = 120_000;

function agentsDir(): string {
  return process.env['WAITLAB_AGENTS_DIR'] ?? AGENTS_DIR_IN_CONTAINER;
}

export const attachedDriver: LabDriver = {
  name: 'attached',
  describe: `hosts already running, each agent waiting on a socket in ${AGENTS_DIR_IN_CONTAINER} (WAITLAB_AGENTS_DIR): the controller service of a compose file from \`waitlab compose\``,
  preflight(plan) {
    const dir = agentsDir();
    const problems = plan ? composeRefusals(plan) : [];
    if (plan?.capture) problems.push('--capture runs tcpdump in each host, which the attached lab cannot start: use --driver netns or compose');
    if (!dir.startsWith('/') || !existsSync(dir) || !statSync(dir).isDirectory()) problems.push(`no agents' directory at ${dir}: run this inside the controller service of a compose file that \`waitlab compose\` wrote`);
    return problems;
  },
  withPrivileges: async () => undefined,
  reap: async () => [],
  async build(plan, log) {
    const dir = agentsDir();
    const hosts: Record<string, LabHost> = {};
    for (const host of Object.values(plan.hosts)) hosts[host.name] = { name: host.name, address: host.address, location: join(dir, `${host.name}.sock`) };
    log('attaching to running agents', { dir, hosts: Object.keys(hosts) });
    return {
      id: `attached:${dir}`,
      driver: 'attached',
      hosts,
      uncontrolled: ['the hosts were started outside this run (compose up): their sysctls and limits are the services\' own, each read back by its agent'],
      spawnAgent(host) {
        return connectAgent(hosts[host]!.location, ATTACH_TIMEOUT_MS);
      },
      async teardown() {
        // Nothing to close: each agent exits when its connection ends, which is when this process exits, so that
        // the controller's container is the first to exit (`compose up --exit-code-from waitlab`) and only
        // after its report is written.
      },
    } satisfies Lab;
  },
};
