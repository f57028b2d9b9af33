// Tests that need a system tool (core/system-tools.ts) say so: where it is missing their group is skipped with the
// tool named, and test/setup/tool-skips-reporter.ts counts the skips by tool at the end of the run. Under
// WAITLAB_REQUIRE_TOOLS=1 (set by .ci/run) a missing tool fails instead, so CI still runs everything.
import { describe, it, type TestFunction } from 'vitest';
import { hasTool } from '../../src/core/system-tools.ts';

const REQUIRED = process.env.WAITLAB_REQUIRE_TOOLS === '1';

/** The words a skipped group's name ends with; the reporter reads the tools back from them. */
export const SKIP_REASON = /\[skipped: (\S+(?:, \S+)*) not installed; npx waitlab setup installs/;

export function missingTools(tools: readonly string[]): string[] {
  return tools.filter((tool) => !hasTool(tool));
}

function skipReason(missing: readonly string[]): string {
  return `[skipped: ${missing.join(', ')} not installed; npx waitlab setup installs ${missing.length === 1 ? 'it' : 'them'}]`;
}

/** describe() of a group that needs `tools`: skipped, its tools named, where one is missing. */
export function describeWithTools(tools: readonly string[], name: string, body: () => void): void {
  const missing = missingTools(tools);
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  if (REQUIRED) {
    describe(name, () => {
      it(`has ${missing.join(', ')}`, () => failMissing(missing));
    });
    return;
  }
  describe.skip(`${name} ${skipReason(missing)}`, body);
}

/** it() of a test that needs `tools`, for a group whose other tests do not: skipped, its tools named, where one is missing. */
export function itWithTools(tools: readonly string[], name: string, fn: TestFunction, timeout?: number): void {
  const missing = missingTools(tools);
  if (missing.length === 0) it(name, fn, timeout);
  else if (REQUIRED) it(`${name} (needs ${missing.join(', ')})`, () => failMissing(missing));
  else it.skip(`${name} ${skipReason(missing)}`, fn);
}

function failMissing(missing: readonly string[]): never {
  throw new Error(
    `${missing.join(', ')} not installed, and WAITLAB_REQUIRE_TOOLS=1 makes that a failure (npx waitlab setup --only ${missing.join(',')})`,
  );
}
