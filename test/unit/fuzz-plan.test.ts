// Property tests (fast-check) of plan validation (issue 14): whatever a scenario's build() returns and whatever
// --set values a user types, loading either yields a plan or fails with waitlab's own error, listing problems:
// never a TypeError, never a stack trace. Bounded here (FUZZ_RUNS raises it); nothing is started by a plan.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isWaitlabError } from '../../src/core/errors.ts';
import { defineScenario, f } from '../../src/core/scenario.ts';
import { parseOverrides, resolvePlan } from '../../src/plan/load-plan.ts';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 200);

/** Anything JSON can say, plus the odd values a script can return. */
const junk = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.string(),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.object({ maxDepth: 2 }),
);
const name = fc.constantFrom('client', 'server', 'x', 'Bad Name', '', '__proto__', 'a'.repeat(20));
const kind = fc.constantFrom('http-server', 'short-conn-client', 'keepalive-client', 'listener', 'proxy', 'nope', 42);
const host = fc.record(
  {
    address: fc.oneof(junk, fc.constantFrom('198.18.0.9', '10.0.0.1', '198.18.0.1')),
    sysctls: fc.oneof(
      junk,
      fc.dictionary(
        fc.constantFrom('net.ipv4.tcp_tw_reuse', 'net.ipv4.tcp_tw_recycle', 'kernel.pid_max', 'bogus'),
        junk,
      ),
    ),
  },
  { requiredKeys: [] },
);
const actor = fc.record(
  {
    kind,
    host: fc.oneof(name, junk),
    port: fc.oneof(junk, fc.integer({ min: -5, max: 70000 })),
    target: fc.oneof(name, junk),
    rate: fc.oneof(junk, fc.constantFrom('300/s', 'fast', '0/s')),
    duration: fc.oneof(junk, fc.constantFrom('1s', '0s', '999h')),
  },
  { requiredKeys: [] },
);
const spec = fc.oneof(
  junk,
  fc.record(
    {
      hosts: fc.oneof(junk, fc.dictionary(name, fc.oneof(host, junk), { maxKeys: 3 })),
      actors: fc.oneof(junk, fc.dictionary(name, fc.oneof(actor, junk), { maxKeys: 3 })),
      thresholds: fc.oneof(junk, fc.array(fc.string(), { maxLength: 2 })),
      regressions: junk,
    },
    { requiredKeys: [] },
  ),
);

function outcome(run: () => unknown): 'plan' | 'problems' {
  try {
    run();
    return 'plan';
  } catch (err) {
    if (!isWaitlabError(err)) throw new Error(`not a waitlab error: ${(err as Error)?.stack ?? String(err)}`);
    expect(err.message.length).toBeGreaterThan(0);
    return 'problems';
  }
}

describe('plan validation under generated input', () => {
  it('any build() result is a plan or a list of problems', () => {
    fc.assert(
      fc.property(spec, (s) => {
        outcome(() =>
          resolvePlan(
            defineScenario({ name: 'fuzz', description: 'fuzz', params: {}, build: () => s as never }),
            'fuzz.ts',
            {},
          ),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('a proxy missing its required upstreams is a problem, not a TypeError from its link (fast-check seed 634124262)', () => {
    const s = { hosts: {}, actors: { client: { kind: 'proxy', host: 'client' } } };
    expect(() =>
      resolvePlan(
        defineScenario({ name: 'fuzz', description: 'fuzz', params: {}, build: () => s as never }),
        'fuzz.ts',
        {},
      ),
    ).toThrow(/actors\.client\.upstreams: required/);
  });

  it('any --set list is parsed or refused as a usage problem', () => {
    const definition = defineScenario({
      name: 'fuzz-set',
      description: 'fuzz',
      params: {
        rate: f.rate({ default: '100/s' }),
        duration: f.duration({ default: '1s' }),
        ports: f.portRange({ default: '40000-40099' }),
        n: f.int({ min: 1, max: 10, default: 1 }),
      },
      build: (p) => ({
        hosts: { client: { sysctls: { 'net.ipv4.ip_local_port_range': `${p.ports.lo} ${p.ports.hi}` } }, server: {} },
        actors: {
          web: { kind: 'http-server', host: 'server', port: 8080 },
          flood: { kind: 'short-conn-client', host: 'client', target: 'web', rate: p.rate, duration: p.duration },
        },
      }),
    });
    const pair = fc
      .tuple(
        fc.constantFrom('rate', 'duration', 'ports', 'n', 'nope', '', 'rate '),
        fc.oneof(fc.string(), fc.constantFrom('300/s', '1-1', '65535-1', '2s', '999h', '1e9', '-1', '')),
      )
      .map(([k, v]) => `${k}=${v}`);
    const arg = fc.oneof(pair, fc.string());
    fc.assert(
      fc.property(fc.array(arg, { maxLength: 4 }), (args) => {
        outcome(() => resolvePlan(definition, 'fuzz.ts', parseOverrides(args)));
      }),
      { numRuns: RUNS },
    );
  });
});
