// Type tests of the package's public API, checked by `npm run typecheck` (tsc --noEmit; this file never runs).
// A line under `@ts-expect-error` must fail to compile: if a change lets it through, tsc fails on the unused
// directive. expectTypeOf pins the shapes a program relies on.
import { expectTypeOf } from 'vitest';
import {
  compare,
  defineScenario,
  EXIT,
  f,
  isWaitlabError,
  readBaseline,
  readReport,
  run,
  type ActorKindName,
  type ActorSpecOf,
  type Ipv4Input,
  type PortRange,
  type Baseline,
  type Comparison,
  type MatrixComparison,
  type Progress,
  type Report,
  type RunOutcome,
  type ScenarioDefinition,
  type SingleRunOutcome,
  type WaitlabErrorCode,
} from 'waitlab';

// A correct scenario compiles: options in their written forms, parameters' parsed values passed on.
export const correct = defineScenario({
  name: 'typed',
  description: 'a correct scenario',
  params: {
    rate: f.rate({ default: '300/s' }),
    ports: f.portRange({ default: '40000-40999' }),
    bind: f.optional(f.ipv4()),
  },
  build: (p) => ({
    hosts: { client: { sysctls: { 'net.ipv4.ip_local_port_range': `${p.ports.lo} ${p.ports.hi}` } }, server: {} },
    actors: {
      web: {
        kind: 'http-server',
        host: 'server',
        port: 8080,
        keepAlive: false,
        closer: 'client',
        keepAliveTimeout: '5s',
      },
      flood: {
        kind: 'short-conn-client',
        host: 'client',
        target: 'web',
        rate: p.rate,
        duration: '6s',
        ...(p.bind ? { localAddress: p.bind } : {}),
      },
      proxy: { kind: 'proxy', host: 'server', upstreams: 'web', sourcePorts: '50000-50999', connectTimeout: 2000 },
      app: {
        kind: 'process',
        host: 'server',
        command: ['node', 'server.js'],
        ready: { log: 'listening' },
        env: { PORT: 8081 },
      },
    },
    tail: '1s',
  }),
});
expectTypeOf(correct.build)
  .parameter(0)
  .toEqualTypeOf<{ readonly rate: number; readonly ports: PortRange; readonly bind: Ipv4Input | undefined }>();

// Actors built in a loop (Object.fromEntries) are checked too.
export const computed = defineScenario({
  name: 'computed',
  description: 'actors from a list',
  params: {},
  build: () => ({
    hosts: { server: {}, c1: {}, c2: {} },
    actors: {
      web: { kind: 'http-server', host: 'server' },
      ...Object.fromEntries(
        ['c1', 'c2'].map((c) => [`from-${c}`, { kind: 'short-conn-client', host: c, target: 'web', rate: '50/s' }]),
      ),
    },
  }),
});

defineScenario({
  name: 'misspelt',
  description: 'a misspelt option',
  params: {},
  build: () => ({
    hosts: { client: {}, server: {} },
    actors: {
      web: { kind: 'http-server', host: 'server' },
      // @ts-expect-error 'rat is not an option of short-conn-client'
      flood: { kind: 'short-conn-client', host: 'client', target: 'web', rat: '300/s' },
    },
  }),
});

defineScenario({
  name: 'wrong-kind',
  description: 'a kind that is not registered',
  params: {},
  build: () => ({
    hosts: { server: {} },
    // @ts-expect-error Type '"http-servr"' is not assignable ... Did you mean '"http-server"'?
    actors: { web: { kind: 'http-servr', host: 'server' } },
  }),
});

defineScenario({
  name: 'options-of-another-kind',
  description: 'a client option on a server',
  params: {},
  build: () => ({
    hosts: { server: {} },
    // @ts-expect-error 'target is not an option of http-server'
    actors: { web: { kind: 'http-server', host: 'server', target: 'web' } },
  }),
});

defineScenario({
  name: 'bad-unit',
  description: 'a duration in words',
  params: {},
  build: () => ({
    hosts: { client: {}, server: {} },
    // @ts-expect-error Type '"5 seconds"' is not assignable to type 'DurationInput | undefined'
    actors: { web: { kind: 'http-server', host: 'server', keepAliveTimeout: '5 seconds' } },
  }),
});

defineScenario({
  name: 'missing-target',
  description: 'a client without its target',
  params: {},
  build: () => ({
    hosts: { client: {} },
    // @ts-expect-error target is required: it has no default
    actors: { flood: { kind: 'short-conn-client', host: 'client' } },
  }),
});

defineScenario({
  name: 'computed-misspelt',
  description: 'a misspelt option in a loop',
  params: {},
  build: () => ({
    hosts: { c1: {} },
    // @ts-expect-error closr is not an option of short-conn-client
    actors: Object.fromEntries(
      ['c1'].map((c) => [c, { kind: 'short-conn-client', host: c, target: 'web', closr: 'server' }]),
    ),
  }),
});

// Kinds and their options by name.
expectTypeOf<ActorKindName>().toEqualTypeOf<
  'http-server' | 'listener' | 'short-conn-client' | 'proxy' | 'keepalive-client' | 'http-client' | 'process'
>();
expectTypeOf<ActorSpecOf<'short-conn-client'>['closer']>().toEqualTypeOf<'client' | 'server' | undefined>();
expectTypeOf<ActorSpecOf<'short-conn-client'>['target']>().toEqualTypeOf<string>();

// run(): one profile resolves to one run's outcome; a list of profiles may be a comparison.
expectTypeOf(
  run('short-conn', { set: { duration: '2s' }, profile: ['tw-reuse'] }),
).resolves.toEqualTypeOf<SingleRunOutcome>();
expectTypeOf(run(correct, { set: { rate: 100 } })).resolves.toEqualTypeOf<SingleRunOutcome>();
expectTypeOf(run('short-conn', { profile: ['default', 'tw-reuse'] as string[] })).resolves.toEqualTypeOf<RunOutcome>();
expectTypeOf<Extract<RunOutcome, { kind: 'comparison' }>['comparison']>().toEqualTypeOf<MatrixComparison>();
expectTypeOf<SingleRunOutcome['report']>().toEqualTypeOf<Report>();
expectTypeOf<SingleRunOutcome['exitCode']>().toEqualTypeOf<number>();
expectTypeOf<Parameters<NonNullable<Parameters<typeof run>[1]>['onProgress'] & {}>[0]>().toEqualTypeOf<Progress>();
// @ts-expect-error set takes strings, numbers and booleans
run('short-conn', { set: { duration: ['2s'] } });
// @ts-expect-error an option the CLI does not have
run('short-conn', { duratoin: '2s' });

// compare() and the readers.
expectTypeOf(compare).parameters.toEqualTypeOf<
  [
    string | Baseline,
    string | Report,
    ({ readonly tolerance?: Readonly<Record<string, string>>; readonly label?: string } | undefined)?,
  ]
>();
expectTypeOf(compare).returns.toEqualTypeOf<Comparison>();
expectTypeOf(readReport).returns.toEqualTypeOf<Report>();
expectTypeOf(readBaseline).returns.toEqualTypeOf<Baseline>();

// Errors: the brand, the codes, the exit codes.
declare const thrown: unknown;
if (isWaitlabError(thrown)) expectTypeOf(thrown.code).toEqualTypeOf<WaitlabErrorCode>();
expectTypeOf<'WAITLAB_INVALID_PLAN'>().toExtend<WaitlabErrorCode>();
expectTypeOf(EXIT.REGRESSION).toEqualTypeOf<5>();
