// A YAML writer for the one kind of document waitlab writes (compose files): maps, lists, strings, numbers and
// booleans, block style. Every string is written double-quoted with JSON's escapes, which YAML reads the same
// way, so no value (a sysctl's "40000 40999", a host name, a path) can change the document's structure.
export type YamlValue = string | number | boolean | readonly YamlValue[] | { readonly [key: string]: YamlValue | undefined };

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_.\-/]*$/;

const key = (k: string) => (PLAIN_KEY.test(k) ? k : JSON.stringify(k));

function scalar(v: string | number | boolean): string {
  if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`cannot write ${v} as YAML`);
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function isEmpty(v: YamlValue): boolean {
  return typeof v === 'object' && (Array.isArray(v) ? v.length === 0 : Object.values(v).every((x) => x === undefined));
}

function lines(value: YamlValue, indent: string): string[] {
  if (typeof value !== 'object') return [`${indent}${scalar(value)}`];
  const out: string[] = [];
  if (Array.isArray(value)) {
    for (const item of value as readonly YamlValue[]) {
      if (typeof item !== 'object' || isEmpty(item)) out.push(`${indent}- ${typeof item === 'object' ? (Array.isArray(item) ? '[]' : '{}') : scalar(item)}`);
      else {
        const inner = lines(item, `${indent}  `);
        out.push(`${indent}- ${inner[0]!.trimStart()}`, ...inner.slice(1));
      }
    }
    return out;
  }
  for (const [k, v] of Object.entries(value as Record<string, YamlValue | undefined>)) {
    if (v === undefined) continue;
    if (typeof v !== 'object') out.push(`${indent}${key(k)}: ${scalar(v)}`);
    else if (isEmpty(v)) out.push(`${indent}${key(k)}: ${Array.isArray(v) ? '[]' : '{}'}`);
    else out.push(`${indent}${key(k)}:`, ...lines(v, `${indent}  `));
  }
  return out;
}

export function toYaml(value: YamlValue, header: readonly string[] = []): string {
  // A comment ends at a line break: one in a header line would start YAML of its own.
  return [...header.map((h) => `# ${h.replace(/[\r\n]+/g, ' ')}`), ...lines(value, '')].join('\n') + '\n';
}
