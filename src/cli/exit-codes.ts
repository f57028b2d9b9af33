// The exit-code table lives below the CLI (controller/exit-codes.ts), where run() and compare() use it too;
// this path stays for the CLI's own modules and tests that name it.
export { EXIT, exitCodeFor } from '../controller/exit-codes.ts';
