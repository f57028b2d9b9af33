// The netns lab: each host a network namespace with one veth (eth0) into a bridge that lives in the lab's
// own bridge namespace, so nothing at all is created in the machine's namespace. A lab that declares
// networks gets one bridge per network there and one veth per network a host is on (eth0, eth1, ...);
// routes, ip_forward and a gateway's nftables masquerade are set inside the hosts' own namespaces only.
// Sysctls are written only inside the lab's namespaces (host-configuration.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { DIST_DIR, PACKAGE_ROOT } from '../core/paths.ts';
import type { LabFamily, MasqueradePlan, Plan } from '../core/plan.ts';
import { LabTeardownError, LabUnavailableError, WaitlabError } from '../core/errors.ts';
import { run } from '../core/command.ts';
import { findExecutable } from '../core/executable-lookup.ts';
import { hasTool, installHint } from '../core/system-tools.ts';
import type { Lab, LabDriver, LabHost } from './driver.ts';
import { currentPrivilege, missingForLab, prepareUserNamespace, reexecInUserNamespace } from './privilege.ts';
import { processStartTime, reapStaleLabs, removeOwner, writeOwner } from './stale-labs.ts';
import { ipBatch, type IpCommand } from './ip-batch.ts';
import { DEFAULT_NETWORK, hostInterfaces, netnsBatches } from './netns-batches.ts';
import { removeNamespaces } from './namespace-removal.ts';
import { configureHosts, hostConfigurator } from './host-configuration.ts';
import { hostsByTableSize, planHostTables, setChildTableSize, type HostTables } from './host-hash-tables.ts';
import { AgentGroup } from './agent-group.ts';
import { assignGroups, groupCount } from './groupable-hosts.ts';

export { WRITE_SYSCTLS } from './host-configuration.ts';

const AGENT_MAIN = resolve(DIST_DIR, 'agent/main.js');

let labsMade = 0;

const NAT_TABLE = 'waitlab_nat';
/** nftables' table family for a lab's NAT: ip, ip6, or inet (both) for a dual-stack lab. */
const NAT_FAMILY: Record<LabFamily, string> = { ipv4: 'ip', ipv6: 'ip6', dual: 'inet' };

/**
 * Source NAT of everything leaving through the masquerade's interface, in the gateway's own namespace (its own
 * nftables). A port range applies to TCP and UDP (nft needs the protocol known to translate ports); fully-random
 * picks every translated port at random instead of trying the original one first.
 */
function masqueradeRules(m: MasqueradePlan, family: LabFamily): string {
  const dev = m.dev.replace(/[^a-z0-9]/g, '');
  const flags = m.randomFully ? ' fully-random' : '';
  const rules = m.ports
    ? `oifname "${dev}" meta l4proto { tcp, udp } masquerade to :${Number(m.ports.lo)}-${Number(m.ports.hi)}${flags}\n    oifname "${dev}" masquerade${flags}`
    : `oifname "${dev}" masquerade${flags}`;
  return `table ${NAT_FAMILY[family]} ${NAT_TABLE} {\n  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n    ${rules}\n  }\n}\n`;
}

/** What a plan needs beyond the lab itself (nft, prlimit, an engine), as its plan declared them: checked again here for a plan resolved elsewhere. */
function toolsForPlan(plan: Plan): string[] {
  const missing = (plan.tools ?? []).filter((tool) => !hasTool(tool));
  return missing.length
    ? [`the scenario needs ${missing.join(', ')}, not installed here: ${installHint(missing)}`]
    : [];
}

/**
 * tcpdump changes its user before it reads a packet (initgroups, even to stay root with -Z root), and a user
 * namespace denies setgroups: it cannot capture in a rootless lab (it said "Couldn't change to 'root' uid=0 gid=0:
 * Operation not permitted").
 */
function captureRefusal(plan: Plan): string[] {
  return plan.capture && currentPrivilege() !== 'root'
    ? [
        '--capture needs root: tcpdump changes its user before capturing, and the user namespace of a rootless lab denies setgroups; run as root (sudo)',
      ]
    : [];
}

/**
 * Adds the hosts' namespaces: from the bridge namespace, each with a TCP table of its own sized for it (hosts of one
 * size in one batch), or from the machine's where the kernel or this machine cannot (host-hash-tables.ts).
 */
async function makeHostNamespaces(
  bridgeNs: string,
  plan: Plan,
  hosts: Readonly<Record<string, LabHost>>,
  adds: readonly IpCommand[],
): Promise<HostTables | undefined> {
  const addOf = new Map(Object.values(hosts).map((h, k) => [h.name, adds[k]!]));
  const tables = planHostTables(bridgeNs, plan.hosts);
  const sizes = tables ? [...hostsByTableSize(tables.buckets)] : [];
  // A bridge namespace that refuses the sysctl (a user namespace may) leaves every host on the machine's table.
  if (!tables || !setChildTableSize(bridgeNs, sizes[0]![0])) {
    await ipBatch([...addOf.values()]);
    return undefined;
  }
  for (const [k, [size, names]] of sizes.entries()) {
    if (k > 0 && !setChildTableSize(bridgeNs, size))
      throw new WaitlabError(`the lab's bridge namespace refused tcp_child_ehash_entries=${size}`);
    await ipBatch(
      names.map((n) => addOf.get(n)!),
      { netns: bridgeNs, enter: 'nsenter' },
    );
  }
  return tables;
}

export const netnsDriver: LabDriver = {
  name: 'netns',
  describe:
    'each host a network namespace on this machine, joined by veth pairs to bridges in a namespace of their own',
  preflight: (plan) => [...missingForLab(), ...(plan ? [...toolsForPlan(plan), ...captureRefusal(plan)] : [])],
  async withPrivileges(argv) {
    if (currentPrivilege() === 'user') {
      const missing = missingForLab();
      if (missing.length)
        throw new LabUnavailableError(
          `the netns lab cannot be built here:\n${missing.map((m) => `  - ${m}`).join('\n')}`,
        );
      return reexecInUserNamespace(argv);
    }
    prepareUserNamespace();
    return undefined;
  },
  reap: reapStaleLabs,
  async build(plan: Plan, log, options = {}) {
    if (currentPrivilege() === 'user') {
      throw new LabUnavailableError(
        'the netns lab needs root, or root of a user namespace: run it through the waitlab CLI, or wrap the program in `waitlab privileged -- <command>`',
      );
    }
    prepareUserNamespace();
    const missing = toolsForPlan(plan);
    if (missing.length) throw new LabUnavailableError(missing.join('; '));
    const reaped = await reapStaleLabs();
    if (reaped.length) log('reaped namespaces of dead runs', { namespaces: reaped });

    const id = `wl${process.pid}n${labsMade++}`;
    const bridgeNs = `${id}-bridge`;
    const hosts: Record<string, LabHost> = {};
    for (const name of Object.keys(plan.hosts))
      hosts[name] = { name, address: plan.hosts[name]!.address, location: `${id}-${name}` };
    const namespaces = [bridgeNs, ...Object.values(hosts).map((h) => h.location)];
    // Ownership first: a run killed halfway through building is still reaped.
    writeOwner({ lab: id, pid: process.pid, startTime: processStartTime(process.pid) ?? '', namespaces });

    const agents = new Set<ChildProcess>();
    const spawned = new Set<ChildProcess>();
    // Which agent of many hosts serves each groupable host; the groups' processes start while the lab is built.
    const groupOf = assignGroups(plan, Object.keys(hosts));
    const groups: AgentGroup[] = [];
    const startGroups = () => {
      for (let k = groups.length; k < groupCount(groupOf); k++) {
        // In the lab's bridge namespace, never the machine's: the group's own sockets (none but pipes) are the lab's.
        const child = spawn('ip', ['netns', 'exec', bridgeNs, process.execPath, AGENT_MAIN, '--group', bridgeNs], {
          stdio: ['pipe', 'pipe', 'pipe'],
          cwd: PACKAGE_ROOT,
        });
        agents.add(child);
        child.on('exit', () => agents.delete(child));
        groups.push(new AgentGroup(child));
      }
    };
    // Agents of their own host started during the build, taken by spawnAgent.
    const early = new Map<string, ChildProcess>();
    const spawnOwnAgent = (host: string) => {
      const ns = hosts[host]!.location;
      const nofile = plan.hosts[host]!.limits?.nofile;
      // prlimit sets soft and hard RLIMIT_NOFILE and execs the agent: the limit is the agent's own (same pid),
      // inherited by any child it starts, and nothing else on the machine is touched.
      const limited = nofile === undefined ? [] : ['prlimit', `--nofile=${nofile}:${nofile}`, '--'];
      // The namespace name on the command line only labels the process for ps and for tests.
      const child = spawn('ip', ['netns', 'exec', ns, ...limited, process.execPath, AGENT_MAIN, ns], {
        stdio: ['pipe', 'pipe', 'pipe'],
        cwd: PACKAGE_ROOT,
      });
      agents.add(child);
      child.on('exit', () => agents.delete(child));
      return child;
    };
    let tornDown = false;
    const lab: Lab = {
      id,
      driver: 'netns',
      hosts,
      spawnAgent(host) {
        const ns = hosts[host]!.location;
        const k = groupOf.get(host);
        if (k !== undefined) {
          startGroups();
          return groups[k]!.channel(host, ns);
        }
        const started = early.get(host);
        early.delete(host);
        // One that has exited already would never tell its handle (its 'exit' is past): a new one tells its own.
        if (started && started.exitCode === null && started.signalCode === null) return started;
        return spawnOwnAgent(host);
      },
      spawnInHost(host, argv) {
        // ip execs the tool after entering the namespace: the child's pid is the tool's own, and teardown's
        // teardown's removeNamespaces kills whatever is still in the namespace.
        const [command, ...args] = argv;
        // This machine's own tool, found in the sbin directories too (an ordinary PATH lacks them).
        const child = spawn(
          'ip',
          ['netns', 'exec', hosts[host]!.location, findExecutable(command!) ?? command!, ...args],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        spawned.add(child);
        child.once('exit', () => spawned.delete(child));
        return { child, signal: (sig) => child.kill(sig) };
      },
      async teardown() {
        if (tornDown) return;
        tornDown = true;
        // A process spawned just before teardown may not have entered its namespace yet (ip enters, then execs):
        // the scan of the namespaces would miss it, so what this lab spawned is killed by pid as well.
        for (const child of [...agents, ...spawned]) child.kill('SIGKILL');
        const failures = await removeNamespaces(namespaces);
        if (failures.length) throw new LabTeardownError(`teardown of lab ${id} left: ${failures.join('; ')}`);
        removeOwner(id);
      },
    };

    try {
      // One bridge per network, all in the bridge namespace: br0 is the single network of a plain lab.
      const bridges = new Map(
        (plan.networks ? Object.keys(plan.networks) : [DEFAULT_NETWORK]).map((n, k) => [n, `br${k}`]),
      );
      for (const host of Object.values(hosts)) {
        if (!host.location.startsWith(`${id}-`))
          throw new WaitlabError(`refusing to configure a namespace outside lab ${id}`);
      }
      const batches = netnsBatches(
        bridgeNs,
        bridges,
        Object.values(hosts).map((h) => ({ namespace: h.location, plan: plan.hosts[h.name]! })),
      );
      await ipBatch(batches.bridgeNamespace);
      // Node and its modules load in the group processes (a few hundred ms each) while the hosts are made; a caller
      // that only builds (the bench) would pay for processes it never uses: 200 hosts took 1.4 s, not 0.55 s.
      if (options.agentsSoon) startGroups();
      const tables = await makeHostNamespaces(bridgeNs, plan, hosts, batches.hostNamespaces);
      log('host hash tables', tables ? { buckets: tables.buckets } : { shared: "the machine's" });
      // The other hosts' agents too, once their namespaces exist: an agent reads nothing of its host before the
      // controller's init, which comes after the build (its sysctls, counters and census are read then).
      if (options.agentsSoon)
        for (const host of Object.keys(hosts)) if (!groupOf.has(host)) early.set(host, spawnOwnAgent(host));
      await ipBatch(batches.bridge, bridgeNs);
      const configurator = hostConfigurator();
      await configureHosts(
        Object.values(hosts).map((h) => ({
          host: h.name,
          namespace: h.location,
          commands: batches.hosts.get(h.location) ?? [],
          sysctls: { ...tables?.defaults, ...plan.hosts[h.name]!.sysctls },
        })),
        configurator,
      );
      log('hosts configured', { by: configurator, hosts: Object.keys(hosts).length });
      for (const [name, host] of Object.entries(hosts)) {
        const hp = plan.hosts[name]!;
        const ns = host.location;
        let nat: string | undefined;
        if (hp.gateway?.masquerade) {
          const family = plan.family ?? 'ipv4';
          await run('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], {
            input: masqueradeRules(hp.gateway.masquerade, family),
          });
          nat = await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', NAT_FAMILY[family], NAT_TABLE]);
        }
        log('host built', {
          host: name,
          namespace: ns,
          address: hp.address,
          interfaces: hostInterfaces(hp),
          routes: hp.routes,
          sysctls: hp.sysctls,
          ...(nat ? { nftables: nat } : {}),
        });
      }
    } catch (err) {
      await lab.teardown().catch(() => undefined);
      throw err;
    }
    return lab;
  },
};
