// The compose image's build context. The Dockerfile copies waitlab with its node_modules; in a checkout or a global
// install those are all under the package's root, but in a project npm hoists them to the project's node_modules,
// beyond any context rooted at the package. Then the context is staged: the package's files that .dockerignore lets
// in, and every runtime dependency found where Node would find it (walking up node_modules directories, as
// require() does), copied into the staged node_modules.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { LabUnavailableError } from '../core/errors.ts';

/** What the Dockerfile's COPY takes from the package root (as .dockerignore allows it), besides node_modules. */
const PACKAGE_FILES = [
  'package.json',
  'package-lock.json',
  'bin',
  'dist',
  'scenarios',
  'build/Release/sock_diag.node',
  'build/Release/flood.node',
  'Dockerfile',
  '.dockerignore',
];

interface Manifest {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const manifestOf = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

/** The directory of package `name` as require() from `from` finds it: the nearest node_modules/<name> upwards. */
export function findPackage(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

const inside = (dir: string, root: string) => dir === root || dir.startsWith(root + sep);

/**
 * Every runtime dependency of the package at `root`, transitively, that Node finds outside `root`, by name. A
 * missing optional dependency (another platform's binary) is skipped; a missing required one, or one name found at
 * two places outside (two versions the staged node_modules could not both hold at its top), is refused.
 */
export function dependenciesToStage(root: string): Map<string, string> {
  const staged = new Map<string, string>();
  const seen = new Set<string>();
  const queue = [root];
  while (queue.length) {
    const dir = queue.shift()!;
    if (seen.has(dir)) continue;
    seen.add(dir);
    const manifest = manifestOf(dir);
    const wanted = [
      ...Object.keys(manifest.dependencies ?? {}).map((name) => ({ name, optional: false })),
      ...Object.keys(manifest.optionalDependencies ?? {}).map((name) => ({ name, optional: true })),
    ];
    for (const { name, optional } of wanted) {
      const found = findPackage(name, dir);
      if (!found) {
        if (optional) continue;
        throw new LabUnavailableError(
          `cannot stage the lab image's build context: ${name}, a dependency of ${relative(root, dir) || 'waitlab'}, is not installed`,
        );
      }
      // Under the root, or nested in a package already staged (its own node_modules): copied along with it.
      const carried = inside(found, root) || [...staged.values()].some((d) => inside(found, d));
      if (!carried) {
        const other = staged.get(name);
        if (other !== undefined && other !== found) {
          throw new LabUnavailableError(
            `cannot stage the lab image's build context: two copies of ${name} (${other} and ${found}) would both have to be at the top of its node_modules`,
          );
        }
        staged.set(name, found);
      }
      queue.push(found);
    }
  }
  return staged;
}

/**
 * A build context for the image: `root` itself when every dependency is under it, else a private copy (mkdtemp: a
 * directory no other user can plant files in) holding the package's files and its dependencies. remove() deletes a
 * staged copy.
 */
export function buildContext(root: string): { dir: string; staged: number; remove(): void } {
  const outside = dependenciesToStage(root);
  if (!outside.size) return { dir: root, staged: 0, remove: () => undefined };
  const dir = mkdtempSync(join(tmpdir(), 'waitlab-image-'));
  try {
    for (const file of PACKAGE_FILES) {
      if (existsSync(join(root, file))) cpSync(join(root, file), join(dir, file), { recursive: true });
    }
    if (existsSync(join(root, 'node_modules')))
      cpSync(join(root, 'node_modules'), join(dir, 'node_modules'), { recursive: true });
    for (const [name, from] of outside) cpSync(from, join(dir, 'node_modules', name), { recursive: true });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return { dir, staged: outside.size, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
