// A scenario's name becomes a directory (reports/<name>/<time>, baselines/<name>), a compose label and words in a
// generated file's header: one pattern, checked wherever a scenario is loaded, so it is never more than a name.
// Lower-case letters, digits and dashes, as the catalogue's own file names are.
export const SCENARIO_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** Why `name` is not a scenario name, or undefined when it is one. */
export function scenarioNameProblem(name: unknown): string | undefined {
  if (typeof name === 'string' && SCENARIO_NAME.test(name)) return undefined;
  return `name: ${JSON.stringify(name)} is not a scenario name (1-64 lower-case letters, digits and dashes, starting with a letter or digit)`;
}
