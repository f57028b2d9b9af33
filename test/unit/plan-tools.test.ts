// A scenario whose system tools are missing stops at validation, naming each tool, what needs it and how to get it:
// exit 3 when that is its only problem, listed among the others (exit 2) when there are more.
import { afterEach, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/cli/exit-codes.ts';
import { MissingToolsError, PlanValidationError } from '../../src/core/errors.ts';
import { loadPlan } from '../../src/plan/load-plan.ts';
import { hideTools } from '../setup/unit-tools.ts';

let restore: () => void = () => {};
afterEach(() => restore());

describe('the tools a plan needs', () => {
  it('are listed in the plan: nginx and what keeps it from outliving its agent', async () => {
    const plan = await loadPlan('proxy-short-upstream');
    expect(plan.tools).toEqual(['nginx', 'setpriv', 'unshare']);
    expect((await loadPlan('proxy-short-upstream', { engine: 'builtin' })).tools).toEqual([]);
    expect((await loadPlan('nat-single-source')).tools).toEqual(['nft']);
  });

  it('stop a scenario with exit 3 when one is missing, naming it, its actor and waitlab setup', async () => {
    restore = hideTools('nginx');
    const err = await loadPlan('proxy-short-upstream').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingToolsError);
    expect((err as MissingToolsError).missing).toEqual([{ tool: 'nginx', neededBy: ['actors.proxy'] }]);
    expect((err as Error).message).toContain('npx waitlab setup --only nginx');
    expect((err as Error).message).toContain('apt-get install nginx');
    expect(exitCodeFor(err)).toBe(3);
  });

  it('are listed among the other problems of an invalid plan (exit 2)', async () => {
    restore = hideTools('nginx');
    const err = await loadPlan('proxy-short-upstream', {}, { thresholds: ['actors.nobody.ok > 1'] }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PlanValidationError);
    expect((err as PlanValidationError).problems.some((p) => p.startsWith('actors.proxy: needs nginx'))).toBe(true);
    expect(exitCodeFor(err)).toBe(2);
  });

  it('include nft for a masquerading gateway', async () => {
    restore = hideTools('nft');
    const err = await loadPlan('nat-single-source').catch((e: unknown) => e);
    expect((err as MissingToolsError).missing.map((m) => m.tool)).toEqual(['nft']);
    expect((err as MissingToolsError).missing[0]!.neededBy[0]).toMatch(/^hosts\.\w+\.gateway/);
  });
});
