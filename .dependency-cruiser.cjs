// The layers of src/, lowest first: a module may import from its own layer and the layers below it, never
// from one above. `npm run check:layers` (run by .ci/run) fails on any import that runs back up, and on any circle.
//   core        vocabulary: units, option fields, errors, defaults, plan and report-free types, thresholds, paths
//   log         the run's logger
//   sampler     the socket census and kernel counters
//   actors      one file per actor kind, and their registry
//   plan        scenario file -> validated, frozen Plan
//   lab         lab drivers (netns, ...), privileges, reaping
//   agent       the per-host agent process and its protocol
//   recorder    the stream of agent events -> samples.ndjson and bounded aggregates
//   report      report.json: build, predictions, findings
//   outputs     files and text made from a finished report (summary.md, terminal summary, ...)
//   controller  runScenario(): lab, agents, recorder, report, outputs
//   watch       watch and doctor: the sampler and the report's predictions and words pointed at any namespace,
//               read-only; above controller so that it may read a live run's files, below the CLI that calls it
//   cli         yargs, exit codes, progress line
const LAYERS = [
  'core',
  'log',
  'sampler',
  'actors',
  'plan',
  'lab',
  'agent',
  'recorder',
  'report',
  'outputs',
  'controller',
  'watch',
  'cli',
];

const upward = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `${layer}-imports-upward`,
  comment: `src/${layer} may import only from ${LAYERS.slice(0, i + 1).join(', ')}`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: `^src/(${LAYERS.slice(i + 1).join('|')})/` },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'library-imports-index',
      comment: 'src/index.ts is the public face of the package; nothing inside the library goes through it',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/index\\.ts$' },
      to: { path: '^src/index\\.ts$' },
    },
    {
      name: 'scenario-imports-source',
      comment: "scenario files use the public API (import ... from 'waitlab'), as a user's would",
      severity: 'error',
      from: { path: '^scenarios/' },
      to: { path: '^src/', pathNot: '^src/index\\.ts$' },
    },
    {
      name: 'consumers-import-actors',
      comment:
        "report/, outputs/ and watch/ read the plan's connection model (core/connection-model.ts, plan/connection-models.ts), never an actor kind's options or links: only report.ts names the registered kinds, to type each actor's stats, and report-shape.ts, to check them",
      severity: 'error',
      from: { path: '^src/(report|outputs|watch)/', pathNot: '^src/report/(report|report-shape)\\.ts$' },
      to: { path: '^src/actors/' },
    },
    {
      name: 'library-imports-tests',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'types', 'default'] },
  },
};
