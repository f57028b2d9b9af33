// Finding and loading scenario files: a name from the package's scenarios/, or a .ts/.mts/.js path anywhere.
// TypeScript is compiled in memory by the loader hooks (typescript-hooks.ts): nothing is cached on disk,
// so root never runs code from a directory that another user could have written first.
import { existsSync, readdirSync } from 'node:fs';
import { register } from 'node:module';
import { basename, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isWaitlabError, PlanValidationError, UsageError } from '../core/errors.ts';
import { DIST_DIR, SCENARIOS_DIR } from '../core/paths.ts';
import type { ScenarioDefinition } from '../core/scenario.ts';
import { SCENARIO_NAME, scenarioNameProblem } from './scenario-name.ts';

const SCENARIO_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];

/** A name from scenarios/ or a path to a scenario file. */
export function scenarioFile(nameOrPath: string): string {
  const asPath = resolve(nameOrPath);
  if (extname(nameOrPath)) {
    if (!SCENARIO_EXTENSIONS.includes(extname(nameOrPath)))
      throw new UsageError(`${nameOrPath}: a scenario file ends in ${SCENARIO_EXTENSIONS.join(', ')}`);
    if (existsSync(asPath)) return asPath;
    throw new UsageError(`no scenario file ${asPath}`);
  }
  const byName = resolve(SCENARIOS_DIR, `${nameOrPath}.ts`);
  if (SCENARIO_NAME.test(nameOrPath) && existsSync(byName)) return byName;
  throw new UsageError(
    `no scenario "${nameOrPath}": known scenarios are ${listScenarioNames().join(', ')}; or give a path to a .ts file`,
  );
}

export function listScenarioNames(): string[] {
  return readdirSync(SCENARIOS_DIR)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => basename(f, '.ts'))
    .sort();
}

let hooksRegistered = false;

/** Lets Node import TypeScript scenario files and resolve `import ... from 'waitlab'` to this package, wherever the file is. */
export function registerScenarioLoader(): void {
  if (hooksRegistered) return;
  hooksRegistered = true;
  register(pathToFileURL(resolve(DIST_DIR, 'plan/typescript-hooks.js')).href);
}

export async function loadScenario(nameOrPath: string): Promise<{ definition: ScenarioDefinition; file: string }> {
  const file = scenarioFile(nameOrPath);
  registerScenarioLoader();
  let mod: { default?: ScenarioDefinition };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: ScenarioDefinition };
  } catch (err) {
    if (isWaitlabError(err)) throw err;
    const why = String((err as Error)?.message ?? err)
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .join(' ');
    throw new UsageError(`cannot load scenario ${file}: ${why}`, { cause: err });
  }
  const definition = mod.default;
  if (!definition || typeof definition.build !== 'function' || typeof definition.name !== 'string') {
    throw new PlanValidationError([`${file} must \`export default defineScenario({...})\``]);
  }
  const nameProblem = scenarioNameProblem(definition.name);
  if (nameProblem) throw new PlanValidationError([`${file}: ${nameProblem}`]);
  return { definition, file };
}
