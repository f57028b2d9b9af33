// The report, its outputs and watch read the plan's connection model (core/connection-model.ts), never an actor's
// options or kind: a new actor kind then gets predictions and closer evidence from its model alone.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const LAYERS = ['src/report', 'src/outputs', 'src/watch'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.(ts|js)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

const FORBIDDEN: [RegExp, string][] = [
  [/\boptions\s*\[/, "reads an actor's option by string"],
  [/\.options\s*(?:\.|\?\.|\bas\b)/, "reads an actor's options"],
  [/\.kind\s*[!=]==?\s*['"`]/, 'compares an actor kind with a string'],
  [/['"`]\s*[!=]==?\s*[\w.?]*\.kind\b/, 'compares an actor kind with a string'],
];

/** Every line of src/report, src/outputs and src/watch that reads options or compares kinds by string. */
function modelBypasses(root: string): string[] {
  return LAYERS.flatMap((layer) => sources(join(root, layer))).flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((line, i) =>
        FORBIDDEN.filter(([re]) => re.test(line)).map(
          ([, why]) => `${relative(root, file)}:${i + 1}: ${why}: ${line.trim()}`,
        ),
      ),
  );
}

describe('connection model consumers', () => {
  it('nothing in src/report, src/outputs or src/watch reads actor options or compares kinds by string', () => {
    expect(modelBypasses(ROOT)).toEqual([]);
  });

  it('the check sees each form it forbids', () => {
    for (const line of [
      "const x = actor.options['closeStyle'];",
      'const y = a.options.count;',
      "if (a.kind === 'proxy') {}",
      "if ('listener' !== actor.kind) {}",
      'const o = (a.options as Record<string, unknown>);',
    ]) {
      expect(
        FORBIDDEN.some(([re]) => re.test(line)),
        line,
      ).toBe(true);
    }
    expect(FORBIDDEN.some(([re]) => re.test('if (value.kind === BASELINE_KIND) {}'))).toBe(false);
  });
});
