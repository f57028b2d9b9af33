// report.json: the report itself, the contract every other output and `waitlab report` read.
import type { Output } from './output.ts';

export const reportJson: Output = {
  name: 'report-json',
  file: 'report.json',
  describe: 'the report, versioned (schemaVersion)',
  write: (report) => `${JSON.stringify(report, null, 2)}\n`,
};
