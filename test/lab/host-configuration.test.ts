// The native host configurator (rtnetlink and /proc/sys/net from a thread inside each namespace) builds every kind of
// lab the catalogue has exactly as `ip -batch` and `sh` did: each host's links, addresses, routes (every table) and
// every net.* sysctl, compared host by host between a build by each. Its failures name the host, the command that
// would have done the same alone, and the errno, in ip's or sysctl's words.
import { netnsConfigAddon } from '../../src/lab/netns-config-addon.ts';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { LabConfigurationError } from '../../src/core/errors.ts';
import type { Plan } from '../../src/core/plan.ts';
import type { Lab } from '../../src/lab/driver.ts';
import { configureHosts } from '../../src/lab/host-configuration.ts';
import { netnsDriver } from '../../src/lab/netns-driver.ts';
import { loadPlan } from '../../src/plan/load-plan.ts';
import { buildLab, labNamespaces } from '../helpers/lab.ts';

const CHAINED_PROXY = fileURLToPath(new URL('../fixtures/scenarios/chained-proxy.ts', import.meta.url));

const ipIn = (ns: string, args: string[]) => execFileSync('ip', ['-n', ns, ...args], { encoding: 'utf8' });

// What differs between any two builds, whoever configures them: interface indexes and the veth peer's (@ifN), MAC
// addresses, and what derives from them (the fe80:: link-local address, its routes), DAD's progress on it, and the
// keys each namespace draws at random.
const normalise = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.trim() && !/fe80::[0-9a-f]*:/.test(l))
    .map((l) =>
      l
        .replace(/^\d+: /, '')
        .replace(/@if\d+/, '')
        .replace(/link\/ether \S+ brd \S+/, 'link/ether')
        .replace(/link-netns \S+/, 'link-netns'),
    )
    .sort();
const RANDOM_SYSCTLS = /^net\.(ipv4\.tcp_fastopen_key|core\.netdev_rss_key|ipv6\.conf\.\w+\.stable_secret) /;

interface HostState {
  links: string[];
  addresses: string[];
  routes: string[];
  nftables: string[];
  sysctls: string[];
}

function hostState(lab: Lab): Record<string, HostState> {
  return Object.fromEntries(
    Object.values(lab.hosts).map((h) => {
      const ns = h.location;
      const sysctls = execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-a', '-r', '^net\\.'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      return [
        h.name,
        {
          links: normalise(ipIn(ns, ['-d', 'link', 'show'])),
          addresses: normalise(ipIn(ns, ['-o', 'addr', 'show'])),
          routes: normalise(
            `${ipIn(ns, ['route', 'show', 'table', 'all'])}${ipIn(ns, ['-6', 'route', 'show', 'table', 'all'])}`,
          ),
          nftables: normalise(
            execFileSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'ruleset'], { encoding: 'utf8' }),
          ),
          sysctls: normalise(sysctls).filter((l) => !RANDOM_SYSCTLS.test(l)),
        },
      ];
    }),
  );
}

async function builtBy(how: 'ip' | 'native', plan: Plan) {
  const before = process.env.WAITLAB_HOST_CONFIG;
  process.env.WAITLAB_HOST_CONFIG = how;
  try {
    const lab = await netnsDriver.build(plan, () => undefined);
    try {
      return hostState(lab);
    } finally {
      await lab.teardown();
    }
  } finally {
    if (before === undefined) delete process.env.WAITLAB_HOST_CONFIG;
    else process.env.WAITLAB_HOST_CONFIG = before;
  }
}

describe('lab hosts configured natively', () => {
  afterEach(() => expect(labNamespaces(process.pid)).toEqual([]));

  it.each([
    ['short-conn', {}],
    ['short-conn', { family: 'ipv6' }],
    ['short-conn', { family: 'dual' }],
    ['nat-gateway-snat', {}],
    ['nat-gateway-snat', { family: 'ipv6' }],
    [CHAINED_PROXY, {}],
  ])('build %s %o exactly as ip -batch and sh did', async (scenario, overrides: Record<string, string>) => {
    const plan = await loadPlan(scenario, overrides);
    const byIp = await builtBy('ip', plan);
    const natively = await builtBy('native', plan);
    expect(Object.keys(natively)).toEqual(Object.keys(plan.hosts));
    for (const host of Object.keys(plan.hosts)) {
      expect(natively[host]!.addresses.length).toBeGreaterThan(1);
      expect(natively[host], `host ${host}`).toEqual(byIp[host]);
    }
  });

  it('names the host, the command as ip would run it and the errno of a request that failed, and stops that host there', async () => {
    const lab = await buildLab({ a: {}, b: {} });
    try {
      const ns = lab.hosts.a!.location;
      const setup = (commands: string[][], sysctls: Record<string, string> = {}) => [
        { host: 'a', namespace: ns, commands, sysctls },
      ];
      const failure = (commands: string[][], sysctls?: Record<string, string>) =>
        configureHosts(setup(commands, sysctls), 'native').then(
          () => undefined,
          (e: unknown) => e as LabConfigurationError,
        );
      let err = await failure([
        ['addr', 'add', '198.18.7.9/24', 'dev', 'eth9'],
        ['addr', 'add', '198.18.7.10/24', 'dev', 'eth0'],
      ]);
      expect(err).toBeInstanceOf(LabConfigurationError);
      expect(err!.host).toBe('a');
      expect(err!.command).toEqual(['ip', '-n', ns, 'addr', 'add', '198.18.7.9/24', 'dev', 'eth9']);
      expect(err!.errno).toBe('ENODEV');
      expect(err!.detail).toBe('Cannot find device "eth9"');
      expect(ipIn(ns, ['addr', 'show'])).not.toContain('198.18.7.10');

      // The kernel's own words (its extended ack) where it gives them, as ip prints them for the same command.
      const ipSays = (command: string[]) => spawnSync('ip', ['-n', ns, ...command], { encoding: 'utf8' }).stderr.trim();
      for (const [command, errno] of [
        [['addr', 'add', `${lab.hosts.a!.address}/24`, 'dev', 'eth0'], 'EEXIST'],
        [['route', 'add', '198.18.9.0/24', 'via', '198.18.5.1'], 'ENETUNREACH'],
        [['link', 'set', 'eth7', 'up'], 'ENODEV'],
      ] as const) {
        err = await failure([[...command]]);
        expect([err!.errno, err!.detail]).toEqual([errno, ipSays([...command])]);
      }

      err = await failure([], { 'net.ipv4.ip_local_port_range': '50000 40000' });
      expect(err!.command).toEqual([
        'ip',
        'netns',
        'exec',
        ns,
        'sysctl',
        '-w',
        'net.ipv4.ip_local_port_range=50000 40000',
      ]);
      expect([err!.errno, err!.detail]).toEqual([
        'EINVAL',
        'sysctl: setting key "net.ipv4.ip_local_port_range": Invalid argument',
      ]);

      err = await failure([], { 'net.ipv4.no_such_sysctl': '1' });
      expect(err!.errno).toBe('ENOENT');

      const gone = `${ns}-gone`;
      err = await configureHosts([{ host: 'a', namespace: gone, commands: [], sysctls: {} }], 'native').then(
        () => undefined,
        (e: unknown) => e as LabConfigurationError,
      );
      expect([err!.errno, err!.detail]).toEqual([
        'ENOENT',
        spawnSync('ip', ['netns', 'exec', gone, 'true'], { encoding: 'utf8' }).stderr.trim(),
      ]);
    } finally {
      await lab.teardown();
    }
  });

  it('sends nothing but requests that add (a link set up, an address, a route), whatever bytes it is handed', async () => {
    const addon = netnsConfigAddon()!;
    // RTM_DELLINK (17) with NLM_F_REQUEST: a netlink header and an ifinfomsg, 32 bytes.
    const dellink = Buffer.alloc(32);
    dellink.writeUInt32LE(32, 0);
    dellink.writeUInt16LE(17, 4);
    dellink.writeUInt16LE(1, 6);
    const job = { namespace: '/run/netns/nothing-here', requests: dellink, devices: [''], files: [], values: [] };
    await expect(Promise.resolve().then(() => addon.configure([job]))).rejects.toThrow(
      /only RTM_NEWLINK, RTM_NEWADDR and RTM_NEWROUTE requests/,
    );
  });

  it('never changes the namespace of a thread of node: after configuring, this process still sees its own links', async () => {
    const own = readlinkSync(`/proc/${process.pid}/ns/net`);
    const lab = await buildLab({ a: {}, b: {} });
    try {
      for (const tid of readdirSync(`/proc/${process.pid}/task`))
        expect(readlinkSync(`/proc/${process.pid}/task/${tid}/ns/net`)).toBe(own);
    } finally {
      await lab.teardown();
    }
  });
});
