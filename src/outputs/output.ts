// The output contract (after k6's output/types.go and pino's transports): an output takes a finished
// report, and the run's sample stream where it needs one, and makes one file of the run directory.
// Outputs only read: the report and samples.ndjson are never changed by one.
import type { Report } from '../report/report.ts';

export interface OutputContext {
  /** The run directory. */
  readonly dir: string;
  /** samples.ndjson of the run: every sample and stats event, one JSON object a line. */
  readonly samplesFile: string;
}

export interface Output {
  /** The name `--output` and the registry know it by. */
  readonly name: string;
  /** The file it writes in the run directory. */
  readonly file: string;
  readonly describe: string;
  /** The file's content. */
  write(report: Report, context: OutputContext): string | Promise<string>;
}
