// The netns lab: each host a network namespace with one veth (eth0) into a bridge that lives in the lab's
// own bridge namespace, so nothing at all is created in the machine's namespace. Sysctls are written
// only through `ip netns exec <lab namespace>`.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from '../core/load-plan.ts';
import type { Plan } from '../core/plan.ts';
import { LabUnavailableError } from '../core/errors.ts';
import { sysctlPath } from '../core/sysctl-check.ts';
import { hasCommand, run, TOOL_PACKAGES } from './command.ts';
import type { Lab, LabDriver, LabHost } from './driver.ts';
import { currentPrivilege, prepareUserNamespace } from './privilege.ts';
import { processStartTime, reapStaleLabs, removeNamespace, removeOwner, writeOwner } from './stale-labs.ts';

const AGENT_MAIN = resolve(PROJECT_ROOT, 'src/agent/main.ts');
const TSX_LOADER = pathToFileURL(createRequire(resolve(PROJECT_ROOT, 'package.json')).resolve('tsx')).href;

let labsMade = 0;

// Writes "value" to each /proc/sys path given as (path, value) pairs; stops at the first failure.
const WRITE_SYSCTLS = 'while [ $# -gt 1 ]; do printf "%s\\n" "$2" > "$1" || { echo "cannot write $1" >&2; exit 1; }; shift 2; done';

export const netnsDriver: LabDriver = {
  name: 'netns',
  async build(plan: Plan, log) {
    if (currentPrivilege() === 'user') {
      throw new LabUnavailableError('the netns lab needs root, or root of a user namespace: run it through the waitlab CLI, or wrap the program in `waitlab privileged -- <command>`');
    }
    prepareUserNamespace();
    if (Object.values(plan.hosts).some((h) => h.limits?.nofile !== undefined) && !hasCommand('prlimit')) {
      throw new LabUnavailableError(`a host has limits.nofile, and prlimit is not installed: ${TOOL_PACKAGES['prlimit']}`);
    }
    const reaped = await reapStaleLabs();
    if (reaped.length) log('reaped namespaces of dead runs', { namespaces: reaped });

    const id = `wl${process.pid}n${labsMade++}`;
    const bridgeNs = `${id}-bridge`;
    const hosts: Record<string, LabHost> = {};
    for (const name of Object.keys(plan.hosts)) hosts[name] = { name, address: plan.hosts[name]!.address, location: `${id}-${name}` };
    const namespaces = [bridgeNs, ...Object.values(hosts).map((h) => h.location)];
    // Ownership first: a run killed halfway through building is still reaped.
    writeOwner({ lab: id, pid: process.pid, startTime: processStartTime(process.pid) ?? '', namespaces });

    const agents = new Set<ChildProcess>();
    let tornDown = false;
    const lab: Lab = {
      id,
      driver: 'netns',
      hosts,
      spawnAgent(host) {
        const ns = hosts[host]!.location;
        const nofile = plan.hosts[host]!.limits?.nofile;
        // prlimit sets soft and hard RLIMIT_NOFILE and execs the agent: the limit is the agent's own (same pid),
        // inherited by any child it starts, and nothing else on the machine is touched.
        const limited = nofile === undefined ? [] : ['prlimit', `--nofile=${nofile}:${nofile}`, '--'];
        // The namespace name on the command line only labels the process for ps and for tests.
        const child = spawn('ip', ['netns', 'exec', ns, ...limited, process.execPath, '--import', TSX_LOADER, AGENT_MAIN, ns], {
          stdio: ['pipe', 'pipe', 'pipe'],
          cwd: PROJECT_ROOT,
        });
        agents.add(child);
        child.on('exit', () => agents.delete(child));
        return child;
      },
      async teardown() {
        if (tornDown) return;
        tornDown = true;
        for (const child of agents) child.kill('SIGKILL');
        const failures: string[] = [];
        for (const ns of namespaces) {
          try {
            await removeNamespace(ns);
          } catch (err) {
            if (!/No such file|not found|Invalid argument/i.test((err as Error).message)) failures.push((err as Error).message);
          }
        }
        if (failures.length) throw new Error(`teardown of lab ${id} left: ${failures.join('; ')}`);
        removeOwner(id);
      },
    };

    try {
      await run('ip', ['netns', 'add', bridgeNs]);
      await run('ip', ['-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge']);
      await run('ip', ['-n', bridgeNs, 'link', 'set', 'br0', 'up']);
      let port = 0;
      for (const [name, host] of Object.entries(hosts)) {
        const hp = plan.hosts[name]!;
        const ns = host.location;
        const peer = `p${port++}`;
        await run('ip', ['netns', 'add', ns]);
        await run('ip', ['-n', bridgeNs, 'link', 'add', peer, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
        await run('ip', ['-n', bridgeNs, 'link', 'set', peer, 'master', 'br0', 'up']);
        await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
        await run('ip', ['-n', ns, 'addr', 'add', `${hp.address}/${hp.prefixLength}`, 'dev', 'eth0']);
        await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
        const pairs = Object.entries(hp.sysctls).flatMap(([k, v]) => [sysctlPath(k), v]);
        if (pairs.length) {
          if (!ns.startsWith(`${id}-`)) throw new Error(`refusing to write sysctls outside lab ${id}`);
          await run('ip', ['netns', 'exec', ns, 'sh', '-c', WRITE_SYSCTLS, 'sh', ...pairs]);
        }
        log('host built', { host: name, namespace: ns, address: hp.address, sysctls: hp.sysctls });
      }
    } catch (err) {
      await lab.teardown().catch(() => undefined);
      throw err;
    }
    return lab;
  },
};
