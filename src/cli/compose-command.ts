// `waitlab compose <scenario>`: the compose file of a scenario's lab, for `docker compose up` (or podman-compose):
// a service per host running its agent, and a controller service that runs the scenario against them (driver
// attached) and writes the report to ./reports.
import { basename, dirname, relative, resolve } from 'node:path';
import { UsageError } from '../core/errors.ts';
import { PACKAGE_ROOT, PACKAGE_VERSION, SCENARIOS_DIR } from '../core/paths.ts';
import { composeFile, composeRefusals, USER_SCENARIOS_IN_CONTAINER } from '../lab/compose-file.ts';
import { labImage } from '../lab/lab-image.ts';
import { loadPlan, parseOverrides } from '../plan/load-plan.ts';
import { BUILT_IN_PROFILES, loadProfile } from '../plan/profiles.ts';
import { scaleOf } from '../plan/replicas.ts';
import { scenarioFile } from '../plan/scenario-file.ts';
import { writeWhole } from '../outputs/registry.ts';
import { EXIT } from './exit-codes.ts';

export interface ComposeArgs {
  scenario: string;
  set: string[];
  sysctl: string[];
  scale: string[];
  profile?: string;
  out?: string;
  image?: string;
  network?: string;
}

export async function composeCommand(argv: ComposeArgs): Promise<number> {
  if (argv.profile !== undefined && !BUILT_IN_PROFILES.some((p) => p.name === argv.profile)) {
    throw new UsageError(
      `waitlab compose takes a built-in profile (${BUILT_IN_PROFILES.map((p) => p.name).join(', ')}): the controller service cannot read a profile file of this machine`,
    );
  }
  const profile = argv.profile === undefined ? undefined : loadProfile(argv.profile);
  const plan = await loadPlan(argv.scenario, parseOverrides(argv.set), {
    driver: 'attached',
    sysctls: argv.sysctl,
    scale: scaleOf(argv.scale),
    ...(profile ? { profile } : {}),
  });
  const refusals = composeRefusals(plan);
  if (refusals.length) throw new UsageError(refusals.join('; '));

  const file = scenarioFile(argv.scenario);
  const inCatalogue = dirname(file) === SCENARIOS_DIR;
  const scenarioArg = inCatalogue ? plan.scenario.name : `${USER_SCENARIOS_IN_CONTAINER}/${basename(file)}`;
  const args = [
    'scenario',
    scenarioArg,
    '--driver',
    'attached',
    '--no-progress',
    ...argv.set.flatMap((s) => ['--set', s]),
    ...argv.sysctl.flatMap((s) => ['--sysctl', s]),
    ...argv.scale.flatMap((s) => ['--scale', s]),
    ...(argv.profile ? ['--profile', argv.profile] : []),
  ];
  const out = argv.out === undefined ? undefined : resolve(argv.out);
  // Compose reads a relative build context and bind mount from the compose file's own directory.
  const from = out ? dirname(out) : process.cwd();
  const up = relative(from, PACKAGE_ROOT);
  const context = up === '' ? '.' : up.startsWith('..') ? PACKAGE_ROOT : up;
  const image = labImage(argv.image);
  const header = [
    `The lab of scenario ${plan.scenario.name}, written by \`waitlab compose ${[argv.scenario, ...args.slice(5)].join(' ')}\` (waitlab ${PACKAGE_VERSION}).`,
    'Each host is a service running its agent; the waitlab service runs the scenario against them and writes the report to ./reports.',
    '  docker compose up --build --exit-code-from waitlab; docker compose down -v',
    "The report lands in ./reports/<scenario>/<time>; the exit code is the run's (0 pass, 1 thresholds failed, ...).",
    `With Podman: podman build -t ${image} . then docker-compose with DOCKER_HOST at \`podman system service\`'s socket (README).`,
    'The network is internal, on 198.18.0.0/15 (benchmarking addresses): no route out, and nothing else is ever a target.',
  ];
  const text = composeFile(
    plan,
    {
      image,
      build: { context },
      agents: { volume: 'agents' },
      network: argv.network ? { external: argv.network } : { create: true },
      controller: { args, reports: './reports', ...(inCatalogue ? {} : { scenarios: dirname(file) }) },
      labels: { 'io.waitlab.scenario': plan.scenario.name },
    },
    header,
  );
  if (out) writeWhole(out, text);
  else process.stdout.write(text);
  return EXIT.OK;
}
