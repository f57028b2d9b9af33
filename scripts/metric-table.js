// Prints the README's metric table from the metric registry (src/outputs/metric-table.ts, built into dist/);
// with --write, puts it between README.md's <!-- metrics:start --> and <!-- metrics:end --> markers.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { metricTable, withMetricTable } from '../dist/outputs/metric-table.js';

const readme = fileURLToPath(new URL('../README.md', import.meta.url));
if (process.argv.includes('--write')) writeFileSync(readme, withMetricTable(readFileSync(readme, 'utf8')));
else process.stdout.write(`${metricTable()}\n`);
