// Which system tools each catalogue scenario needs, from its plan at its defaults: what `waitlab list` marks and
// `waitlab setup --check` lists beside each tool.
import { isWaitlabError, MissingToolsError } from '../core/errors.ts';
import { loadPlan } from './load-plan.ts';
import { listScenarioNames } from './scenario-file.ts';

export interface ScenarioTools {
  readonly scenario: string;
  readonly description: string;
  /** Every tool its plan runs, installed or not. */
  readonly tools: readonly string[];
  /** Those of them not installed here. */
  readonly missing: readonly string[];
}

export async function scenarioTools(name: string): Promise<ScenarioTools> {
  try {
    const plan = await loadPlan(name);
    return { scenario: name, description: plan.scenario.description, tools: plan.tools ?? [], missing: [] };
  } catch (err) {
    if (!(err instanceof MissingToolsError)) throw err;
    return { scenario: name, description: err.description, tools: err.needed, missing: err.missing.map((m) => m.tool) };
  }
}

/** Every catalogue scenario's tools; a scenario that does not resolve for another reason is left out, not fatal. */
export async function catalogueTools(): Promise<ScenarioTools[]> {
  const out: ScenarioTools[] = [];
  for (const name of listScenarioNames()) {
    try {
      out.push(await scenarioTools(name));
    } catch (err) {
      if (!isWaitlabError(err)) throw err;
    }
  }
  return out;
}
