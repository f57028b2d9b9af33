// Typed errors with stable codes (after undici's lib/core/errors.js). The CLI maps them to exit
// codes at its top; everything below it throws.

export class WaitlabError extends Error {
  readonly code: string = 'WAITLAB_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The scenario, its parameters or a --set override are invalid. Lists every problem at once. */
export class PlanValidationError extends WaitlabError {
  override readonly code = 'WAITLAB_INVALID_PLAN';
  constructor(readonly problems: readonly string[], readonly scenario?: string) {
    super(
      `${scenario ? `scenario ${scenario}: ` : ''}${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
  }
}

/** A command-line usage problem (unknown scenario, malformed flag). */
export class UsageError extends WaitlabError {
  override readonly code = 'WAITLAB_USAGE';
}

/** The lab could not be built: a missing privilege or tool. The message says how to get it. */
export class LabUnavailableError extends WaitlabError {
  override readonly code = 'WAITLAB_LAB_UNAVAILABLE';
}

/** A command the lab driver ran failed. */
export class LabCommandError extends WaitlabError {
  override readonly code = 'WAITLAB_LAB_COMMAND';
  constructor(
    readonly command: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`${command.join(' ')} failed (exit ${exitCode ?? 'signal'}): ${stderr.trim() || 'no output'}`);
  }
}

/** An agent died or reported a fatal error. */
export class AgentError extends WaitlabError {
  override readonly code = 'WAITLAB_AGENT';
}

/** The run was interrupted by SIGINT or SIGTERM. */
export class InterruptedError extends WaitlabError {
  override readonly code = 'WAITLAB_INTERRUPTED';
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
  }
}
