// The unit project runs on any machine with Node alone: every system tool counts as installed, at the path of its
// first executable, unless a test hides it (hideTools). The lab project finds the real ones.
import { vi } from 'vitest';

const hidden = new Set<string>();

/** Makes tools missing for the plan's tool lookup until the returned function is called. */
export function hideTools(...names: string[]): () => void {
  for (const name of names) hidden.add(name);
  return () => names.forEach((name) => hidden.delete(name));
}

vi.mock('../../src/core/system-tools.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/core/system-tools.ts')>();
  const locateTool = (tool: { name: string; executables: readonly string[] }) =>
    hidden.has(tool.name) ? undefined : `/usr/bin/${tool.executables[0]!.replace(/^.*\//, '')}`;
  return { ...real, locateTool, hasTool: (name: string) => !hidden.has(name) };
});
