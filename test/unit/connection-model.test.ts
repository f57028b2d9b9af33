import { describe, expect, it } from 'vitest';
import { defineScenario, type ScenarioSpec } from '../../src/core/scenario.ts';
import { connectionsOf } from '../../src/plan/connection-models.ts';
import { resolvePlan } from '../../src/plan/load-plan.ts';
import { loadReportFixture } from './fixture.ts';

const planOf = (spec: ScenarioSpec) =>
  resolvePlan(defineScenario({ name: 'inline', description: 'd', params: {}, build: () => spec }), 'x.ts', {});

describe('connection model', () => {
  it('a flood: whom it dials, from which ports, who closes first and how, one connection per request, its open-model load', () => {
    const plan = planOf({
      hosts: { client: {}, server: {} },
      actors: {
        web: { kind: 'http-server', host: 'server', port: 8080, closeStyle: 'rst', requestBody: 'unread' },
        flood: {
          kind: 'short-conn-client',
          host: 'client',
          target: 'web',
          rate: '400/s',
          duration: '2s',
          count: 500,
          closer: 'server',
          closeStyle: 'close',
          requestBodyBytes: 10,
        },
        bound: {
          kind: 'short-conn-client',
          host: 'client',
          target: 'web',
          localAddress: '198.18.0.1',
          model: 'closed',
          concurrency: 3,
        },
        fixed: {
          kind: 'short-conn-client',
          host: 'client',
          target: 'web',
          localPort: 40000,
          localAddress: '198.18.0.1',
        },
      },
    });
    expect(plan.actors.flood!.connections).toEqual({
      dials: [
        {
          to: { actor: 'web', host: 'server', address: '198.18.0.2', port: 8080 },
          localPorts: { from: 'range' },
          perRequest: { pooled: false },
          closer: 'server',
          closeStyle: 'close',
          requestBodyBytes: 10,
          writesAfterPeerClose: false,
          giveUpAfterMs: 5000,
        },
      ],
      load: { model: 'open', ratePerSec: 400, durationMs: 2000, count: 500 },
    });
    expect(plan.actors.web!.connections).toEqual({
      accepts: {
        port: 8080,
        backlog: 511,
        acceptAfterMs: 0,
        reuseAddr: true,
        keepAlive: true,
        idleTimeoutMs: 5000,
        idleHintMs: 5000,
        closeStyle: 'rst',
        unreadBody: true,
      },
      dials: [],
    });
    expect(plan.actors.bound!.connections!.dials[0]!.localPorts).toEqual({
      from: 'bind-before-connect',
      address: '198.18.0.1',
    });
    expect(plan.actors.bound!.connections!.load).toEqual({ model: 'closed', concurrency: 3, durationMs: 10_000 });
    expect(plan.actors.fixed!.connections!.dials[0]!).toMatchObject({
      sourceAddress: '198.18.0.1',
      localPorts: { from: 'fixed', port: 40000 },
    });
  });

  it('a proxy: each upstream a dial, its own source range or a pool, HAProxy http mode closing with RST', () => {
    const plan = planOf({
      hosts: { client: {}, proxy: {}, backend: {} },
      actors: {
        web1: { kind: 'http-server', host: 'backend', port: 8080 },
        web2: { kind: 'http-server', host: 'backend', port: 8081 },
        lb: {
          kind: 'proxy',
          host: 'proxy',
          engine: 'builtin',
          upstreams: 'web1,web2',
          keepAlive: 4,
          bind: '198.18.0.2',
        },
        ka: { kind: 'keepalive-client', host: 'client', target: 'lb', connections: 3, rate: '50/s' },
      },
    });
    const lb = plan.actors.lb!.connections!;
    expect(lb.accepts!.port).toBe(80);
    expect(lb.dials.map((d) => d.to.actor)).toEqual(['web1', 'web2']);
    expect(lb.dials[0]).toMatchObject({
      sourceAddress: '198.18.0.2',
      localPorts: { from: 'bind-before-connect', address: '198.18.0.2' },
      perRequest: { pooled: true, connections: 4 },
      closer: 'client',
      closeStyle: 'graceful',
    });
    expect(plan.actors.ka!.connections).toMatchObject({
      dials: [{ to: { actor: 'lb' }, perRequest: { pooled: true, connections: 3 } }],
      load: { model: 'open', ratePerSec: 50 },
    });
  });

  it('idle timeouts on both ends of a pool, and which failed requests each pool sends again', () => {
    const plan = planOf({
      hosts: { client: {}, proxy: {}, backend: {} },
      actors: {
        web: { kind: 'http-server', host: 'backend', port: 8080, keepAliveTimeout: '65s' },
        silent: {
          kind: 'http-server',
          host: 'backend',
          port: 8082,
          keepAliveTimeout: '4500ms',
          keepAliveHeader: false,
        },
        closing: { kind: 'http-server', host: 'backend', port: 8081, keepAlive: false },
        nginx: { kind: 'proxy', host: 'proxy', port: 80, upstreams: 'web', keepAlive: 8 },
        short: {
          kind: 'proxy',
          host: 'proxy',
          port: 81,
          upstreams: 'web',
          keepAlive: 8,
          upstreamIdleTimeout: '4s',
          retries: 'error-timeout-non-idempotent',
        },
        off: { kind: 'proxy', host: 'proxy', port: 82, upstreams: 'web', keepAlive: 8, retries: 'off' },
        lb: { kind: 'proxy', host: 'proxy', port: 83, engine: 'builtin', upstreams: 'web', keepAlive: 8 },
        ha: { kind: 'proxy', host: 'proxy', port: 84, engine: 'haproxy', upstreams: 'web', keepAlive: 8 },
        pool: { kind: 'http-client', host: 'client', target: 'web', keepAliveTimeout: '10s', retries: 2 },
      },
    });
    const dial = (name: string) => plan.actors[name]!.connections!.dials[0]!;
    expect(plan.actors.web!.connections!.accepts).toMatchObject({
      keepAlive: true,
      idleTimeoutMs: 65_000,
      idleHintMs: 65_000,
    });
    // Node's header says whole seconds, rounded up; without it the server's timeout is not told.
    expect(
      planOf({
        hosts: { backend: {} },
        actors: { w: { kind: 'http-server', host: 'backend', port: 8080, keepAliveTimeout: '4500ms' } },
      }).actors.w!.connections!.accepts!.idleHintMs,
    ).toBe(5_000);
    expect(plan.actors.silent!.connections!.accepts!.idleHintMs).toBeUndefined();
    expect(plan.actors.closing!.connections!.accepts!.idleTimeoutMs).toBeUndefined();
    // nginx's own default keepalive_timeout, and proxy_next_upstream's default passing on idempotent requests only.
    expect(dial('nginx')).toMatchObject({
      perRequest: { pooled: true, connections: 8, idleTimeoutMs: 60_000 },
      retries: 'idempotent',
    });
    expect(dial('short')).toMatchObject({ perRequest: { idleTimeoutMs: 4_000 }, retries: 'all' });
    expect(dial('off').retries).toBe('none');
    expect(dial('lb')).toMatchObject({ perRequest: { idleTimeoutMs: 4_000 }, retries: 'none' });
    expect(dial('ha').perRequest).toEqual({ pooled: true, connections: 8 });
    expect(dial('ha').retries).toBeUndefined();
    // undici honours a Keep-Alive hint, closing its keepAliveTimeoutThreshold (2 s) before it.
    expect(dial('pool')).toMatchObject({
      perRequest: { pooled: true, connections: 2, idleTimeoutMs: 10_000, idleHintMarginMs: 2_000 },
      retries: 'all',
    });
  });

  it('a listener: SO_REUSEADDR of the old and the restarted socket, its paused accept and RLIMIT_NOFILE', () => {
    const plan = planOf({
      hosts: { server: {} },
      actors: {
        l: {
          kind: 'listener',
          host: 'server',
          port: 9000,
          reuseAddr: true,
          restartAfterAccepts: 5,
          restartReuseAddr: false,
          acceptAfter: '2s',
          nofile: 64,
        },
      },
    });
    expect(plan.actors.l!.connections).toEqual({
      accepts: {
        port: 9000,
        backlog: 511,
        acceptAfterMs: 2000,
        reuseAddr: true,
        restart: { reuseAddr: false },
        keepAlive: false,
        closeStyle: 'graceful',
        unreadBody: false,
      },
      dials: [],
      nofile: 64,
    });
  });

  it("a report made before the model was recorded gets it from its plan's options, as the kind derives it", () => {
    const report = loadReportFixture('haproxy-short-upstream--source-ports');
    const proxy = Object.values(report.scenario.plan.actors).find((a) => a.host === 'proxy')!;
    expect(proxy.connections).toBeUndefined();
    expect(connectionsOf(proxy).dials[0]!.localPorts).toEqual({ from: 'own-range', lo: 40000, hi: 40999 });
    expect(connectionsOf(undefined)).toEqual({ dials: [] });
  });
});
