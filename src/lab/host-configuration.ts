// Configures every host of a netns lab inside its own namespace: loopback and interfaces up, addresses and routes
// (the commands of netns-batches.ts) and the host's sysctls. With the native addon, all hosts in one call: one thread
// setns()es from host to host and sends the rtnetlink requests `ip` would send, then writes /proc/sys/net there, so no
// process is started per host (an `ip` and a `sh` each cost 13-25 ms on a loaded 2-core machine). Without the addon
// (no C compiler at install), or with WAITLAB_HOST_CONFIG=ip, each host gets its own `ip -batch` and `sh`, a few at once.
import { namedNamespacePath } from '../sampler/sock-diag.ts';
import { LabConfigurationError, WaitlabError } from '../core/errors.ts';
import { run } from '../core/command.ts';
import { eachAtMost } from '../core/each-at-most.ts';
import { sysctlPath } from '../plan/sysctl-check.ts';
import { ipBatch, type IpCommand } from './ip-batch.ts';
import { type ConfigureFailure, netnsConfigAddon } from './netns-config-addon.ts';
import { rtnetlinkRequest } from './rtnetlink-request.ts';

/** Hosts configured at once on the `ip -batch` path: the kernel takes rtnl_lock per change either way. */
const HOSTS_AT_ONCE = 4;

// Writes "value" to each /proc/sys path given as (path, value) pairs; stops at the first failure. /proc/sys/net is
// the network namespace of the process that opens it: the kube driver runs it in each pod's.
export const WRITE_SYSCTLS =
  'while [ $# -gt 1 ]; do printf "%s\\n" "$2" > "$1" || { echo "cannot write $1" >&2; exit 1; }; shift 2; done';

export interface HostSetup {
  /** The host's name in the plan, for errors. */
  readonly host: string;
  readonly namespace: string;
  readonly commands: readonly IpCommand[];
  readonly sysctls: Readonly<Record<string, string>>;
}

export type HostConfigurator = 'native' | 'ip';

const SYSCTL_NAME = /^net\.[a-z0-9_]+(\.[a-z0-9_-]+)+$/;
// The kernel prints every value a lab sets on one line: numbers, or numbers separated by single spaces.
const SYSCTL_VALUE = /^[\x20-\x7e]{0,255}$/;

function sysctlPairs(setup: HostSetup): [name: string, value: string][] {
  return Object.entries(setup.sysctls).map(([name, value]) => {
    if (!SYSCTL_NAME.test(name) || !SYSCTL_VALUE.test(value))
      throw new WaitlabError(`host ${setup.host}: refusing sysctl ${JSON.stringify(name)} = ${JSON.stringify(value)}`);
    return [name, value];
  });
}

/** Which way hosts are configured here: the addon where it was built, unless WAITLAB_HOST_CONFIG=ip asks for `ip`. */
export function hostConfigurator(): HostConfigurator {
  return process.env.WAITLAB_HOST_CONFIG !== 'ip' && netnsConfigAddon() ? 'native' : 'ip';
}

export async function configureHosts(setups: readonly HostSetup[], how = hostConfigurator()): Promise<void> {
  if (how === 'native') return configureNatively(setups);
  await eachAtMost(HOSTS_AT_ONCE, setups, async (setup) => {
    await ipBatch(setup.commands, setup.namespace);
    const pairs = sysctlPairs(setup).flatMap(([name, value]) => [sysctlPath(name), value]);
    if (pairs.length) await run('ip', ['netns', 'exec', setup.namespace, 'sh', '-c', WRITE_SYSCTLS, 'sh', ...pairs]);
  });
}

async function configureNatively(setups: readonly HostSetup[]): Promise<void> {
  const addon = netnsConfigAddon();
  if (!addon) throw new WaitlabError('the native host configurator is not built (build/Release/netns_config.node)');
  const jobs = setups.map((setup) => {
    const requests = setup.commands.map(rtnetlinkRequest);
    const pairs = sysctlPairs(setup);
    return {
      // Checked as a name, not joined: a join would turn '..' into a path the C side's own check never sees.
      namespace: namedNamespacePath(setup.namespace),
      requests: Buffer.concat(requests.map((r) => r.message)),
      devices: requests.map((r) => r.device),
      files: pairs.map(([name]) => sysctlPath(name)),
      values: pairs.map(([, value]) => value),
    };
  });
  const failures = await addon.configure(jobs);
  const first = failures[0];
  if (!first) return;
  if (first.stage === 'thread')
    throw new WaitlabError(`the host configurator's thread failed: ${first.code} (${first.text})`);
  throw configurationError(setups[first.job]!, first);
}

/** The failure in the words `ip` (or `sysctl`) would have used for the same command run alone. */
function configurationError(setup: HostSetup, f: ConfigureFailure): LabConfigurationError {
  const ns = setup.namespace;
  switch (f.stage) {
    case 'namespace':
      return new LabConfigurationError(
        setup.host,
        ['ip', 'netns', 'exec', ns],
        f.code,
        `Cannot open network namespace "${ns}": ${f.text}`,
      );
    case 'socket':
      return new LabConfigurationError(setup.host, ['ip', '-n', ns], f.code, `Cannot open netlink socket: ${f.text}`);
    case 'file': {
      const [name, value] = sysctlPairs(setup)[f.index]!;
      return new LabConfigurationError(
        setup.host,
        ['ip', 'netns', 'exec', ns, 'sysctl', '-w', `${name}=${value}`],
        f.code,
        `sysctl: setting key "${name}": ${f.text}`,
      );
    }
    default: {
      const command = setup.commands[f.index]!;
      const device = rtnetlinkRequest(command).device || (command[0] === 'link' ? command[2] : undefined);
      const words =
        f.code === 'ENODEV' && device
          ? `Cannot find device "${device}"`
          : f.message
            ? `Error: ${f.message}.`
            : `RTNETLINK answers: ${f.text}`;
      return new LabConfigurationError(setup.host, ['ip', '-n', ns, ...command], f.code, words);
    }
  }
}
