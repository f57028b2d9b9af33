// What the editor says about a scenario file: the TypeScript compiler, run on scenario files that import
// 'waitlab' as a user's do, accepts a correct one and names the misspelt option, the wrong kind and the bad unit
// in its message (test/types/public-api.ts pins that they fail; this pins what the messages say).
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-dir.ts';

const scenario = (actors: string) => `import { defineScenario } from 'waitlab';
export default defineScenario({
  name: 'typed',
  description: 'typed',
  params: {},
  build: () => ({
    hosts: { client: {}, server: {} },
    actors: {
      ${actors}
    },
  }),
});
`;

const FILES = {
  correct: scenario(`web: { kind: 'http-server', host: 'server', keepAliveTimeout: '5s' },
      flood: { kind: 'short-conn-client', host: 'client', target: 'web', rate: '300/s', duration: 6000, closer: 'server' },`),
  misspelt: scenario(`web: { kind: 'http-server', host: 'server' },
      flood: { kind: 'short-conn-client', host: 'client', target: 'web', rat: '300/s' },`),
  wrongKind: scenario(`web: { kind: 'http-servr', host: 'server' },`),
  badUnit: scenario(`web: { kind: 'http-server', host: 'server', keepAliveTimeout: '5 seconds' },`),
};

/** Every file's diagnostics, as `tsc --noEmit` prints them: line and message. */
function compile(): Record<keyof typeof FILES, string[]> {
  const dir = tempDir();
  const paths = Object.fromEntries(
    Object.entries(FILES).map(([name, text]) => {
      const file = join(dir, `${name}.ts`);
      writeFileSync(file, text);
      return [name, file];
    }),
  );
  const program = ts.createProgram(Object.values(paths), {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    allowImportingTsExtensions: true,
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [resolve('node_modules/@types')],
    paths: { waitlab: [resolve('src/index.ts')] },
  });
  const out = Object.fromEntries(Object.keys(FILES).map((name) => [name, [] as string[]])) as Record<
    keyof typeof FILES,
    string[]
  >;
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const name = Object.entries(paths).find(([, file]) => file === d.file?.fileName)?.[0] as
      | keyof typeof FILES
      | undefined;
    if (!name || !d.file || d.start === undefined) continue;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    out[name].push(`${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  }
  return out;
}

describe('scenario files in the editor', () => {
  // One program over the library's sources: seconds of compiling, more on a busy machine.
  it('accepts a correct one and names what is wrong in the others', { timeout: 180_000 }, () => {
    const diagnostics = compile();
    expect(diagnostics.correct).toEqual([]);
    expect(diagnostics.misspelt).toEqual([
      expect.stringMatching(
        /^10: Type 'string' is not assignable to type 'string & \{ readonly "rat is not an option of short-conn-client": never; \}'/,
      ),
    ]);
    expect(diagnostics.wrongKind).toEqual([
      expect.stringMatching(/^9: Type '"http-servr"' is not assignable to type .*Did you mean '"http-server"'\?/),
    ]);
    expect(diagnostics.badUnit).toEqual([
      expect.stringMatching(/^9: Type '"5 seconds"' is not assignable to type 'DurationInput \| undefined'/),
    ]);
  });
});
