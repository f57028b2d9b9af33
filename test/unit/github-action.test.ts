// action.yml (the composite GitHub Action) and examples/github-actions.yml, read by a YAML parser as GitHub reads
// them: the inputs the workflow gives exist, the shell steps take inputs only through env (an input spliced into a
// script is a script injection), and results are published even when the runs step fails the job.
// test/slow/package-user.test.ts runs the shell steps themselves.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PACKAGE_ROOT } from '../../src/core/paths.ts';

interface Step {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  shell?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}
interface Action {
  name: string;
  description: string;
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: Step[] };
}

const action = parse(readFileSync(join(PACKAGE_ROOT, 'action.yml'), 'utf8')) as Action;
const workflow = parse(readFileSync(join(PACKAGE_ROOT, 'examples/github-actions.yml'), 'utf8')) as {
  jobs: Record<string, { steps: Step[] }>;
};
const steps = action.runs.steps;
const byName = (name: string) => steps.find((s) => s.name === name)!;

describe('action.yml', () => {
  it('is a composite action with a described input each, the scenarios required', () => {
    expect(action.runs.using).toBe('composite');
    expect(Object.keys(action.inputs)).toEqual([
      'scenarios',
      'baselines',
      'package',
      'setup',
      'node-version',
      'artifact-name',
    ]);
    for (const [name, input] of Object.entries(action.inputs)) expect(input.description, name).toMatch(/\S{3}/);
    expect(action.inputs['scenarios']!.required).toBe(true);
    expect(action.inputs['baselines']!.default).toBe('baselines');
    expect(action.inputs['setup']!.default).toBe('true');
  });

  it('installs waitlab, its system tools through `waitlab setup --yes --for`, then runs the scenarios, in that order', () => {
    expect(steps.map((s) => s.name)).toEqual([
      'Node.js',
      'Install waitlab',
      'System tools',
      'Scenarios',
      'JUnit results',
      'Run directories',
    ]);
    expect(byName('System tools').run).toContain('setup --yes --for');
    expect(byName('System tools').if).toBe("inputs.setup == 'true'");
    const run = byName('Scenarios').run!;
    expect(run).toContain('--baseline "$baseline"');
    expect(run).toContain('--dry-run');
    expect(run).toContain('exit "$overall"');
  });

  it('gives every shell step its inputs through env only, never as ${{ }} inside the script, and runs it under bash', () => {
    const shellSteps = steps.filter((s) => s.run !== undefined);
    expect(shellSteps.map((s) => s.id ?? s.name)).toEqual(['install', 'System tools', 'run']);
    for (const step of shellSteps) {
      expect(step.shell).toBe('bash');
      expect(step.run).not.toContain('${{');
      // GitHub runs them as `bash --noprofile --norc -eo pipefail`: the runs step turns -e off to collect exit codes.
      expect(step.run!.split('\n')[0]).toBe(step.id === 'run' ? 'set +e -uo pipefail' : 'set -euo pipefail');
      for (const value of Object.values(step.env ?? {}))
        expect(value).toMatch(/^\$\{\{ (inputs|steps\.install\.outputs)\.[\w-]+ \}\}$/);
    }
    const inputsUsed = JSON.stringify(steps)
      .match(/inputs\.[\w-]+/g)!
      .map((i) => i.slice('inputs.'.length));
    expect(new Set(inputsUsed)).toEqual(new Set(Object.keys(action.inputs)));
  });

  it('publishes junit.xml as test results and uploads the run directories even when the runs failed the job', () => {
    const junit = byName('JUnit results');
    expect(junit.uses).toBe('mikepenz/action-junit-report@v6');
    expect(junit.if).toBe("always() && steps.run.outputs.runs != ''");
    expect(junit.with!['report_paths']).toBe('${{ steps.run.outputs.runs }}/*/junit.xml');
    const upload = byName('Run directories');
    expect(upload.uses).toBe('actions/upload-artifact@v4');
    expect(upload.if).toBe(junit.if);
    expect(upload.with!['path']).toBe('${{ steps.run.outputs.runs }}');
    expect(action.outputs['exit-code']!.value).toBe('${{ steps.run.outputs.exit-code }}');
  });

  it('ships in the package, so a project can use it from node_modules', () => {
    const files = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { files: string[] }).files;
    expect(files).toEqual(expect.arrayContaining(['action.yml', 'examples/', 'Dockerfile', '.dockerignore']));
  });
});

describe('examples/github-actions.yml', () => {
  const jobSteps = Object.values(workflow.jobs)[0]!.steps;
  const uses = jobSteps.find((s) => s.uses === './node_modules/waitlab')!;

  it('installs the project (waitlab among its dev dependencies), then uses the action from the installed package', () => {
    expect(jobSteps.map((s) => s.uses ?? s.run)).toEqual([
      'actions/checkout@v4',
      'actions/setup-node@v4',
      'npm ci',
      './node_modules/waitlab',
    ]);
  });

  it('gives only inputs the action declares, and every required one', () => {
    for (const key of Object.keys(uses.with!)) expect(Object.keys(action.inputs), key).toContain(key);
    for (const [name, input] of Object.entries(action.inputs))
      if (input.required) expect(Object.keys(uses.with!)).toContain(name);
  });

  it('names a scenario file and a baselines directory laid out as examples/ci/ is', () => {
    expect(uses.with!['scenarios']!.split('\n')[0]).toBe('ci/waitlab/scenario.ts');
    expect(uses.with!['baselines']).toBe('ci/waitlab/baselines');
    const scenario = readFileSync(join(PACKAGE_ROOT, 'examples/ci/scenario.ts'), 'utf8');
    const name = /name: '([a-z0-9-]+)'/.exec(scenario)![1]!;
    expect(
      JSON.parse(readFileSync(join(PACKAGE_ROOT, 'examples/ci/baselines', name, 'baseline.json'), 'utf8')).identity
        .scenario,
    ).toBe(name);
  });
});
