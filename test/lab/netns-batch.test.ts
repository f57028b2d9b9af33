// A lab built through `ip -batch` (one process per namespace) is the lab the one-command-at-a-time driver
// built: hosts on two networks reach each other through a gateway; a failed command is named as if run alone;
// teardown removes every namespace at once and ends whatever ran inside.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { LabCommandError } from '../../src/core/errors.ts';
import { defineScenario } from '../../src/core/scenario.ts';
import type { Lab } from '../../src/lab/driver.ts';
import { hostTableSize, ownTablesSupported } from '../../src/lab/host-hash-tables.ts';
import { ipBatch } from '../../src/lab/ip-batch.ts';
import { netnsDriver } from '../../src/lab/netns-driver.ts';
import { resolvePlan } from '../../src/plan/load-plan.ts';
import { hostLinks, inHost, labNamespaces, until } from '../helpers/lab.ts';

const routedPlan = () =>
  resolvePlan(
    defineScenario({
      name: 'batch-lab',
      description: 'two networks and a gateway',
      params: {},
      build: () => ({
        networks: { lan: {}, wan: {} },
        hosts: {
          gw: { networks: ['lan', 'wan'], gateway: {} },
          server: { networks: ['wan'], via: 'gw' },
          c1: {
            networks: ['lan'],
            via: 'gw',
            sysctls: { 'net.ipv4.tcp_fin_timeout': 7, 'net.ipv4.ip_local_port_range': '40000 40999' },
          },
          c2: { networks: ['lan'], via: 'gw', sysctls: { 'net.ipv4.tcp_max_tw_buckets': 5000 } },
        },
        actors: {},
      }),
    }),
    'test',
    {},
  );

const addresses = (lab: Lab, host: string) =>
  (
    JSON.parse(execFileSync('ip', ['-n', lab.hosts[host]!.location, '-j', 'addr', 'show'], { encoding: 'utf8' })) as {
      ifname: string;
      operstate: string;
      addr_info: { family: string; local: string; prefixlen: number }[];
    }[]
  )
    .flatMap((i) =>
      i.addr_info.filter((a) => a.family === 'inet').map((a) => `${i.ifname} ${i.operstate} ${a.local}/${a.prefixlen}`),
    )
    .sort();

/** connect() from one host to a closed port of another: ECONNREFUSED means the SYN got there and the RST back. */
const connectError = (lab: Lab, from: string, to: string) =>
  inHost(lab, from, process.execPath, [
    '-e',
    `require('net').connect({ host: '${lab.hosts[to]!.address}', port: 9, timeout: 3000 }).on('error', (e) => console.log(e.code)).on('timeout', () => { console.log('timeout'); process.exit(); })`,
  ]).trim();

describe('netns lab built in batches', () => {
  const labs: Lab[] = [];
  const linksBefore = hostLinks();
  // Other programs on this machine (a container engine) may add links of their own meanwhile: only names a netns
  // lab gives its bridges and veths (br0, p0, ...) would be this lab's.
  const labLinksAdded = () => hostLinks().filter((l) => !linksBefore.includes(l) && /^(br|p)\d+$/.test(l));
  afterEach(async () => {
    for (const lab of labs.splice(0)) await lab.teardown();
    expect(labNamespaces(process.pid)).toEqual([]);
    expect(labLinksAdded()).toEqual([]);
  });

  it('gives every host its interfaces, addresses, routes and sysctls, and they reach each other through the gateway', async () => {
    const plan = routedPlan();
    const lab = await netnsDriver.build(plan, () => undefined);
    labs.push(lab);
    expect(addresses(lab, 'gw')).toEqual([
      `eth0 UP ${plan.hosts.gw!.interfaces![0]!.address}/24`,
      `eth1 UP ${plan.hosts.gw!.interfaces![1]!.address}/24`,
      'lo UNKNOWN 127.0.0.1/8',
    ]);
    expect(addresses(lab, 'c2')).toEqual([`eth0 UP ${plan.hosts.c2!.address}/24`, 'lo UNKNOWN 127.0.0.1/8']);
    expect(
      execFileSync('ip', ['-n', lab.hosts.c1!.location, 'route', 'show', plan.hosts.c1!.routes![0]!.to], {
        encoding: 'utf8',
      }),
    ).toContain(`via ${plan.hosts.c1!.routes![0]!.via}`);
    expect(inHost(lab, 'c1', 'cat', ['/proc/sys/net/ipv4/tcp_fin_timeout']).trim()).toBe('7');
    expect(inHost(lab, 'c2', 'cat', ['/proc/sys/net/ipv4/tcp_fin_timeout']).trim()).not.toBe('7');
    expect(connectError(lab, 'c1', 'server')).toBe('ECONNREFUSED');
    expect(connectError(lab, 'c2', 'c1')).toBe('ECONNREFUSED');
  });

  // Before Linux 6.1 every namespace shares the machine's table.
  it.skipIf(!ownTablesSupported())(
    "gives every host a TCP hash table of its own, with the defaults of a namespace sharing the machine's",
    async () => {
      const lab = await netnsDriver.build(routedPlan(), () => undefined);
      labs.push(lab);
      const sysctl = (ns: string, name: string) =>
        execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-n', name], { encoding: 'utf8' }).trim();
      // The bridge namespace was created from the machine's: it shares the machine's table (read negative).
      const bridge = `${lab.id}-bridge`;
      expect(Number(sysctl(bridge, 'net.ipv4.tcp_ehash_entries'))).toBeLessThan(0);
      for (const host of ['gw', 'server', 'c1', 'c2']) {
        const ns = lab.hosts[host]!.location;
        // c1 uses 1,000 local ports; the others the range a new namespace has (32768-60999).
        expect(sysctl(ns, 'net.ipv4.tcp_ehash_entries')).toBe(String(host === 'c1' ? 1024 : hostTableSize(28232)));
        expect(sysctl(ns, 'net.ipv4.tcp_max_syn_backlog')).toBe(sysctl(bridge, 'net.ipv4.tcp_max_syn_backlog'));
        if (host !== 'c2')
          expect(sysctl(ns, 'net.ipv4.tcp_max_tw_buckets')).toBe(sysctl(bridge, 'net.ipv4.tcp_max_tw_buckets'));
      }
      // A value the plan sets wins over the default the table would have changed.
      expect(sysctl(lab.hosts.c2!.location, 'net.ipv4.tcp_max_tw_buckets')).toBe('5000');
    },
  );

  it('names the one command of a batch that failed, and runs nothing after it', async () => {
    const plan = routedPlan();
    const lab = await netnsDriver.build(plan, () => undefined);
    labs.push(lab);
    const ns = lab.hosts.c2!.location;
    const err = await ipBatch(
      [
        ['link', 'set', 'lo', 'up'],
        ['addr', 'add', '198.18.7.9/24', 'dev', 'eth9'],
        ['addr', 'add', '198.18.7.10/24', 'dev', 'eth0'],
      ],
      ns,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabCommandError);
    expect((err as LabCommandError).command).toEqual(['ip', '-n', ns, 'addr', 'add', '198.18.7.9/24', 'dev', 'eth9']);
    expect((err as LabCommandError).stderr).toMatch(/Cannot find device "eth9"/);
    expect((err as LabCommandError).stderr).not.toMatch(/Command failed/);
    expect(addresses(lab, 'c2').join(' ')).not.toContain('198.18.7.10');
  });

  it('tears down every namespace in one go and ends the processes still inside', async () => {
    const lab = await netnsDriver.build(routedPlan(), () => undefined);
    const sleepers = ['gw', 'c1'].map((h) => lab.spawnInHost!(h, ['sleep', '60']));
    const exits = sleepers.map(
      (s) => new Promise<NodeJS.Signals | null>((resolve) => s.child.on('exit', (_code, signal) => resolve(signal))),
    );
    // Only once each is `sleep` (ip netns exec enters the namespace, then execs): before that it is not in it yet.
    const comm = (pid: number | undefined) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      } catch {
        return '';
      }
    };
    await until(() => sleepers.every((s) => comm(s.child.pid) === 'sleep'), 'the sleepers inside their hosts');
    await lab.teardown();
    expect(await Promise.all(exits)).toEqual(['SIGKILL', 'SIGKILL']);
    expect(
      Object.values(lab.hosts)
        .map((h) => h.location)
        .filter((ns) => labNamespaces(process.pid).includes(ns)),
    ).toEqual([]);
  });
});
