// A compose document as text, written by the `yaml` package, that every compose reads as the document it is:
// - docker-compose 1.29 reads YAML with PyYAML, which also ends a line at U+0085, U+2028 and U+2029 (YAML 1.1)
//   and refuses a file holding a raw C0/C1 control or DEL. The `yaml` package (YAML 1.2) writes those raw inside
//   double-quoted strings and comments, so each is written as an escape here and header lines lose them.
// - Compose interpolates `$NAME` and `${NAME}` in every value: a `$` of a path or an argument is written `$$`.
import { Document } from 'yaml';

export type YamlValue =
  | string
  | number
  | boolean
  | readonly YamlValue[]
  | { readonly [key: string]: YamlValue | undefined };

/** What PyYAML reads as a line break or refuses outright, besides the ASCII controls. */
const NOT_RAW_IN_PYYAML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g;
const ANY_LINE_BREAK_OR_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]+/g;

function withoutInterpolation(value: YamlValue | undefined): YamlValue | undefined {
  if (typeof value === 'string') return value.replaceAll('$', '$$$$');
  if (typeof value !== 'object') return value;
  if (Array.isArray(value)) return (value as readonly YamlValue[]).map((v) => withoutInterpolation(v)!);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutInterpolation(v)]));
}

function escapeForPyYaml(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * `interpolated: false` for a document no compose reads (Kubernetes YAML): its `$` stay as they are, and the writer
 * escapes what Kubernetes itself expands ($(VAR) in a command) where it puts it.
 */
export function composeYaml(document: YamlValue, header: readonly string[] = [], interpolated = true): string {
  const doc = new Document(interpolated ? withoutInterpolation(document) : document);
  // A comment ends at any line break a reader knows: in a header line one would start YAML of its own.
  if (header.length)
    doc.commentBefore = header.map((line) => ` ${line.replace(ANY_LINE_BREAK_OR_CONTROL, ' ')}`).join('\n');
  // Every string double-quoted, unfolded: quoted, no value can change the document's structure; and a
  // character PyYAML would not read raw can then only be inside one, where its escape means the same.
  const text = doc.toString({ defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN', lineWidth: 0 });
  return text.replace(NOT_RAW_IN_PYYAML, escapeForPyYaml);
}
