// A plan moved to the addresses a lab's network (a cluster's CNI) gave its hosts, and those addresses learned
// from the agents' hellos: every place the plan named a host's address names the learned one, nothing else moves.
import { describe, expect, it } from 'vitest';
import { learnedAddresses } from '../../src/controller/learned-addresses.ts';
import { LabUnavailableError } from '../../src/core/errors.ts';
import type { Plan } from '../../src/core/plan.ts';
import { defineScenario } from '../../src/core/scenario.ts';
import { loadPlan, resolvePlan } from '../../src/plan/load-plan.ts';
import { relocatePlan } from '../../src/plan/relocate-plan.ts';

const eth0 = (...addresses: string[]) =>
  addresses.map((address) => ({ dev: 'eth0', address, prefixLength: address.includes(':') ? 64 : 24 }));

/** A plan of a scenario given in code: these hosts, and a flood from `client` to `web` on `server`. */
function planOf(hosts: Record<string, { address?: string }>, more: Record<string, { host: string }> = {}): Plan {
  return resolvePlan(
    defineScenario({
      name: 'inline',
      description: 'hosts whose addresses move',
      params: {},
      build: () => ({
        hosts,
        actors: {
          web: { kind: 'http-server', host: 'server', port: 8080 },
          flood: { kind: 'short-conn-client', host: 'client', target: 'web', rate: '10/s', duration: '1s' },
          ...Object.fromEntries(
            Object.entries(more).map(([name, { host }]) => [name, { kind: 'http-server', host, port: 8080 }]),
          ),
        },
      }),
    }),
    '(given in code)',
    {},
  );
}

/** Every string of the plan but its scenario's own, keys included: where a planned address could still hide. */
function textOf(plan: Plan): string {
  const { scenario: _, ...rest } = plan;
  return JSON.stringify(rest);
}

describe('relocatePlan', () => {
  it("moves nginx's upstreams, the client's target and the connection models to the learned addresses", async () => {
    const plan = await loadPlan('proxy-short-upstream', { engine: 'nginx' });
    const hosts = Object.values(plan.hosts);
    const moves = Object.fromEntries(hosts.map((h, i) => [h.address, `198.19.7.${100 + i}`]));
    const moved = relocatePlan(plan, moves);

    for (const h of hosts) {
      expect(textOf(plan)).toContain(h.address);
      expect(textOf(moved)).not.toMatch(new RegExp(`(?<![\\d.])${h.address.replaceAll('.', '\\.')}(?![\\d])`));
      expect(moved.hosts[h.name]!.address).toBe(moves[h.address]);
    }
    // What nginx.conf is written from in the proxy's host: its upstreams and its own address.
    const proxy = moved.actors.proxy as unknown as {
      upstreams: { host: string; address: string }[];
      hostAddress: string;
    };
    expect(proxy.upstreams.map((u) => u.address)).toEqual(proxy.upstreams.map((u) => moved.hosts[u.host]!.address));
    expect(proxy.hostAddress).toBe(moved.hosts.proxy!.address);
    for (const actor of Object.values(moved.actors)) {
      if (actor.connect) expect(actor.connect.address).toBe(moved.hosts[actor.connect.host]!.address);
      for (const dial of actor.connections?.dials ?? [])
        expect(dial.to.address).toBe(moved.hosts[dial.to.host]!.address);
    }
    expect(moved.scenario).toEqual(plan.scenario);
    expect(Object.isFrozen(moved.hosts)).toBe(true);
    expect(Object.keys(moved)).toEqual(Object.keys(plan));
  });

  it('swaps two hosts in one pass, and leaves an address that only begins like a moved one', () => {
    const plan = planOf(
      { client: { address: '198.18.0.2' }, server: { address: '198.18.0.3' }, other: { address: '198.18.0.20' } },
      { more: { host: 'other' } },
    );
    const moved = relocatePlan(plan, { '198.18.0.2': '198.18.0.3', '198.18.0.3': '198.18.0.2' });
    expect(moved.hosts.client!.address).toBe('198.18.0.3');
    expect(moved.hosts.server!.address).toBe('198.18.0.2');
    expect(moved.hosts.other!.address).toBe('198.18.0.20');
    expect(moved.actors.flood!.connect!.address).toBe('198.18.0.2');
    expect(relocatePlan(plan, { '198.18.0.2': '198.18.0.2' })).toBe(plan);
  });
});

describe('learnedAddresses', () => {
  const plan = planOf({ client: {}, server: {} });
  const client = plan.hosts.client!.address;
  const server = plan.hosts.server!.address;

  it("keeps a host's planned address where its agent has it, and takes its one address of the family otherwise", () => {
    expect(
      learnedAddresses(plan, { client: eth0(client, '2001:2::9'), server: eth0('10.244.1.7', 'fd00::7') }),
    ).toEqual({ [client]: client, [server]: '10.244.1.7' });
  });

  it('refuses to guess between several addresses, or without any, and two hosts at one address', () => {
    const refused = (reported: Parameters<typeof learnedAddresses>[1]) => {
      try {
        learnedAddresses(plan, reported);
      } catch (err) {
        expect(err).toBeInstanceOf(LabUnavailableError);
        return (err as Error).message;
      }
      return 'not refused';
    };
    expect(refused({ client: eth0('10.0.0.1', '10.0.0.2'), server: [] })).toBe(
      `the hosts' addresses could not be learned from their agents: host client: its agent has the IPv4 addresses 10.0.0.1, 10.0.0.2, none the plan's ${client}; host server: its agent has no IPv4 address, not even the plan's ${server}`,
    );
    expect(refused({ client: eth0('10.0.0.1'), server: eth0('10.0.0.1') })).toMatch(
      /hosts client and server both have the address 10\.0\.0\.1$/,
    );
  });
});
