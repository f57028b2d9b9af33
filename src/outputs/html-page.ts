// One self-contained HTML page: uPlot and its stylesheet read from the package's node_modules at render time and
// inlined, the chart data in a JSON block, the drawing script (page-charts.js) after them. Nothing is fetched when
// the page is opened, and its Content-Security-Policy forbids it anyway. Every string of a report that reaches the
// HTML goes through escapeHtml; the data block escapes '<', so no value can close its script element.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { OutputError } from '../core/errors.ts';
import type { ChartSpec } from './chart-specs.ts';
import { escapeHtml, jsonForScript } from './html-escape.ts';

interface Assets {
  uplotJs: string;
  uplotCss: string;
  chartsJs: string;
}

let assets: Assets | undefined;

/** Inlined code must not hold the text that would end its element early. */
function inlinable(text: string, what: string, closing: string): string {
  if (text.toLowerCase().includes(closing))
    throw new OutputError(`${what} contains "${closing}" and cannot be inlined in a page`);
  return text;
}

/** uPlot as installed with this package (resolved from this module, never from the working directory), and the drawing script beside this module. */
function pageAssets(): Assets {
  if (!assets) {
    const require = createRequire(import.meta.url);
    const read = (specifier: string) => readFileSync(require.resolve(specifier), 'utf8');
    assets = {
      uplotJs: inlinable(read('uplot/dist/uPlot.iife.min.js'), 'uPlot', '</script'),
      uplotCss: inlinable(read('uplot/dist/uPlot.min.css'), "uPlot's stylesheet", '</style'),
      chartsJs: inlinable(
        readFileSync(new URL('./page-charts.js', import.meta.url), 'utf8'),
        'page-charts.js',
        '</script',
      ),
    };
  }
  return assets;
}

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #1b1b1b; max-width: 1400px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; } h3 { font-size: 15px; margin: 0 0 4px; }
.verdict-pass { color: #1a7f37; } .verdict-fail, .verdict-error, .verdict-interrupted { color: #cf222e; }
.meta { color: #57606a; margin: 2px 0; } .note { color: #57606a; font-size: 12px; margin: 2px 0 6px; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 20px 28px; }
.chart { min-width: 0; } .chart .plot { width: 100%; }
table { border-collapse: collapse; margin: 4px 0 8px; font-size: 13px; }
th, td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; vertical-align: top; } th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
ul { padding-left: 20px; } li { margin: 3px 0; }
.fail { color: #cf222e; font-weight: 600; } .ok { color: #1a7f37; }
.findings li { max-width: 1100px; }
table.u-legend, .u-legend th, .u-legend td { border: none; font-size: 12px; }
svg text { font-family: system-ui, sans-serif; font-size: 12px; }
`;

/** A chart's place on the page: its title, what it draws, a note. page-charts.js draws into the .plot element. */
export function chartFigure(spec: ChartSpec): string {
  return `<div class="chart"><h3>${escapeHtml(spec.title)}</h3>${spec.note ? `<p class="note">${escapeHtml(spec.note)}</p>` : ''}<div class="plot" id="${escapeHtml(spec.id)}"></div></div>`;
}

export function htmlPage(title: string, body: string, charts: readonly ChartSpec[]): string {
  const a = pageAssets();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style>${a.uplotCss}</style>
<style>${STYLE}</style>
</head>
<body>
${body}
<script type="application/json" id="waitlab-data">${jsonForScript({ charts })}</script>
<script>${a.uplotJs}</script>
<script>${a.chartsJs}</script>
</body>
</html>
`;
}
