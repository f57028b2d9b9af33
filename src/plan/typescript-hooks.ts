// Module loader hooks (node:module register) for scenario files: TypeScript is compiled in memory by
// esbuild, never through a cache directory, and the bare name `waitlab` resolves to this package from a
// scenario anywhere on disk. Every .ts file is loaded as an ES module, whatever the nearest package.json
// says, so a scenario beside no package.json loads too.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

const LIBRARY_URL = new URL('../index.js', import.meta.url).href;
const TYPESCRIPT = /\.m?ts$/;

interface ResolveContext {
  parentURL?: string;
  conditions: string[];
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<{ url: string; format?: string | null }>;
type NextLoad = (
  url: string,
  context: { format?: string | null },
) => Promise<{ format: string; source?: string | Buffer | null }>;

export async function resolve(specifier: string, context: ResolveContext, nextResolve: NextResolve) {
  if (specifier === 'waitlab') return { url: LIBRARY_URL, format: 'module', shortCircuit: true };
  return nextResolve(specifier, context);
}

export async function load(url: string, context: { format?: string | null }, nextLoad: NextLoad) {
  if (url.startsWith('file:') && TYPESCRIPT.test(new URL(url).pathname)) {
    const file = fileURLToPath(url);
    const { code } = await transform(await readFile(file, 'utf8'), {
      loader: 'ts',
      format: 'esm',
      target: 'node20',
      sourcefile: file,
      sourcemap: 'inline',
    });
    return { format: 'module', source: code, shortCircuit: true };
  }
  return nextLoad(url, context);
}
