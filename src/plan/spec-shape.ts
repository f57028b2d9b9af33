// What build() returned, checked for its shape before anything reads it: a scenario file is user code, and
// `build: () => undefined`, a null host or `address: 42` must be a problem named in the scenario's terms, not a
// TypeError from deep inside the plan's resolution.
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function specShapeProblems(spec: unknown): string[] {
  if (!isObject(spec))
    return [`build() returned ${spec === null ? 'null' : typeof spec}, not an object with hosts and actors`];
  const problems: string[] = [];
  const section = (key: string, required: boolean) => {
    const v = spec[key];
    if (v === undefined && !required) return {};
    if (!isObject(v)) {
      problems.push(
        `${key}: expected an object of named entries, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`,
      );
      return {};
    }
    return v;
  };
  for (const [name, host] of Object.entries(section('hosts', true))) {
    if (!isObject(host))
      problems.push(`hosts.${name}: expected an object, got ${host === null ? 'null' : typeof host}`);
    else {
      if (host['address'] !== undefined && typeof host['address'] !== 'string')
        problems.push(
          `hosts.${name}.address: expected a string like "198.18.0.5", got ${JSON.stringify(host['address'])}`,
        );
      if (host['sysctls'] !== undefined && !isObject(host['sysctls']))
        problems.push(`hosts.${name}.sysctls: expected an object of sysctl names`);
      if (
        host['networks'] !== undefined &&
        !(Array.isArray(host['networks']) && host['networks'].every((n) => typeof n === 'string'))
      )
        problems.push(`hosts.${name}.networks: expected a list of network names`);
    }
  }
  for (const [name, actor] of Object.entries(section('actors', true))) {
    if (!isObject(actor))
      problems.push(`actors.${name}: expected an object, got ${actor === null ? 'null' : typeof actor}`);
    else {
      if (typeof actor['kind'] !== 'string') problems.push(`actors.${name}.kind: expected the name of an actor kind`);
      if (typeof actor['host'] !== 'string') problems.push(`actors.${name}.host: expected the name of a host`);
    }
  }
  section('networks', false);
  section('regressions', false);
  if (
    spec['thresholds'] !== undefined &&
    !(Array.isArray(spec['thresholds']) && spec['thresholds'].every((t) => typeof t === 'string'))
  )
    problems.push('thresholds: expected a list of "<path> <op> <number>" strings');
  return problems;
}
