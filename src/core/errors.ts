// Typed errors with stable codes (after undici's lib/core/errors.js). Everything below the CLI throws
// these; `code` maps to an exit code in one table (controller/exit-codes.ts), and report.json records the
// code beside the message. Consumers test the Symbol.for brand, not instanceof, which breaks across two
// copies of the package.

const BRAND = Symbol.for('waitlab.error');

/** Every code, for whatever checks a code read from a file (report.json's errorCode). */
export const WAITLAB_ERROR_CODES = [
  'WAITLAB_INTERNAL',
  'WAITLAB_INVALID_PLAN',
  'WAITLAB_INVALID_VALUE',
  'WAITLAB_USAGE',
  'WAITLAB_LAB_UNAVAILABLE',
  'WAITLAB_LAB_COMMAND',
  'WAITLAB_LAB_TEARDOWN',
  'WAITLAB_AGENT',
  'WAITLAB_AGENT_EXITED',
  'WAITLAB_ACTOR_FAILED',
  'WAITLAB_INTERRUPTED',
  'WAITLAB_OUTPUT',
] as const;

export type WaitlabErrorCode = (typeof WAITLAB_ERROR_CODES)[number];

export class WaitlabError extends Error {
  readonly code: WaitlabErrorCode = 'WAITLAB_INTERNAL';
  readonly [BRAND] = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export function isWaitlabError(err: unknown): err is WaitlabError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[BRAND] === true;
}

/** The code and message that report.json records for whatever ended a run. */
export function describeError(err: unknown): { code: WaitlabErrorCode; message: string } {
  if (isWaitlabError(err)) return { code: err.code, message: err.message };
  return { code: 'WAITLAB_INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

/** The scenario, its parameters or a --set override are invalid. Lists every problem at once. */
export class PlanValidationError extends WaitlabError {
  override readonly code = 'WAITLAB_INVALID_PLAN';
  constructor(
    readonly problems: readonly string[],
    readonly scenario?: string,
  ) {
    super(
      `${scenario ? `scenario ${scenario}: ` : ''}${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
  }
}

/** One value (a duration, a rate, a port range, a threshold) does not parse; validation collects these into a PlanValidationError. */
export class InvalidValueError extends WaitlabError {
  override readonly code = 'WAITLAB_INVALID_VALUE';
}

/** A command-line usage problem (unknown scenario, malformed flag, a scenario file that cannot load). */
export class UsageError extends WaitlabError {
  override readonly code = 'WAITLAB_USAGE';
}

/** The lab could not be built: a missing privilege or tool. The message says how to get it. */
export class LabUnavailableError extends WaitlabError {
  override readonly code = 'WAITLAB_LAB_UNAVAILABLE';
}

/** System tools a scenario needs are not installed (exit 3, as any missing tool): each named with what needs it. */
export class MissingToolsError extends LabUnavailableError {
  constructor(
    readonly missing: readonly { readonly tool: string; readonly neededBy: readonly string[] }[],
    readonly scenario: string,
    hint: string,
    /** Every tool the scenario needs, the missing among them, and its description, for `waitlab list`. */
    readonly needed: readonly string[] = missing.map((m) => m.tool),
    readonly description = '',
  ) {
    super(
      `scenario ${scenario} needs ${missing.map((m) => `${m.tool} (${m.neededBy.join(', ')})`).join(' and ')}, not installed here: ${hint}`,
    );
  }
}

/**
 * A user's process in the lab did not become ready, or exited before the load ended (exit 3: the lab with it in
 * could not be kept up). The message names the actor, the command and its exit, with the tail of its stderr.
 */
export class ActorFailedError extends WaitlabError {
  override readonly code = 'WAITLAB_ACTOR_FAILED';
  constructor(
    readonly actor: string,
    message: string,
  ) {
    super(message);
  }
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

/**
 * Configuring one lab host failed without a process of its own to blame (the native configurator sent the request
 * or wrote the file itself): names the host, the operation as the command that would do it alone, and the errno.
 */
export class LabConfigurationError extends WaitlabError {
  override readonly code = 'WAITLAB_LAB_COMMAND';
  constructor(
    readonly host: string,
    readonly command: readonly string[],
    readonly errno: string,
    readonly detail: string,
  ) {
    super(`host ${host}: ${command.join(' ')} failed (${errno}): ${detail}`);
  }
}

/** Tearing a lab down left something behind (named in the message). */
export class LabTeardownError extends WaitlabError {
  override readonly code = 'WAITLAB_LAB_TEARDOWN';
}

/** An agent reported a fatal error, did not answer in time, or could not start. */
export class AgentError extends WaitlabError {
  override readonly code: WaitlabErrorCode = 'WAITLAB_AGENT';
}

/** An agent's process has exited: after a stop this is expected, before it a failure. */
export class AgentExitedError extends AgentError {
  override readonly code = 'WAITLAB_AGENT_EXITED';
}

/** A file of the run could not be written (a full disk, a read-only file system): the run stops, its lab torn down. */
export class OutputError extends WaitlabError {
  override readonly code = 'WAITLAB_OUTPUT';
}

/** The run was interrupted by SIGINT or SIGTERM. */
export class InterruptedError extends WaitlabError {
  override readonly code = 'WAITLAB_INTERRUPTED';
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
  }
}
