// Opens a page in Debian's Chromium (driven by playwright-core, no browser download) with the network cut: every
// request that is not file: is aborted and recorded, and every console error and page error is kept.
import { chromium, type Browser, type Page } from 'playwright-core';
import { pathToFileURL } from 'node:url';

export const CHROMIUM = '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface OfflinePage {
  page: Page;
  /** Console messages of type error, and uncaught page errors. */
  errors: string[];
  /** URLs the page tried to reach outside file:. */
  blocked: string[];
  close(): Promise<void>;
}

/** `file` opened from disk in a fresh browser (playwright's temporary profile), after its charts have drawn. */
export async function openOffline(file: string, viewport = { width: 1280, height: 1000 }): Promise<OfflinePage> {
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  const context = await browser.newContext({ viewport });
  const blocked: string[] = [];
  const errors: string[] = [];
  await context.route('**', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    blocked.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(pathToFileURL(file).href);
  await page.waitForFunction(() => document.body.dataset['charts'] !== undefined, undefined, { timeout: 30_000 });
  return { page, errors, blocked, close: () => browser.close() };
}

export interface DrawnChart {
  title: string;
  points: number;
  series: Record<string, { points: number; peak: number | null }>;
  marks: number[];
  levels: number[];
}

/** What each chart recorded once drawn (page-charts.js), by chart id. */
export async function drawnCharts(page: Page): Promise<Record<string, DrawnChart>> {
  return page.evaluate(() => (window as unknown as { waitlabCharts: Record<string, DrawnChart> }).waitlabCharts);
}

/** The chart ids of the page's data block: every chart the page meant to draw. */
export async function plannedCharts(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    (JSON.parse(document.getElementById('waitlab-data')!.textContent!) as { charts: { id: string }[] }).charts.map(
      (c) => c.id,
    ),
  );
}

/** Pixels of a chart's canvas in a series' colour (each channel within 16): a series that drew nothing has none. */
export async function pixelsOfColor(page: Page, id: string, hex: string): Promise<number> {
  return page.evaluate(
    ([chartId, color]) => {
      const canvas = document.querySelector(`#${CSS.escape(chartId!)} canvas`) as HTMLCanvasElement | null;
      if (!canvas) return 0;
      const want = [1, 3, 5].map((i) => parseInt(color!.slice(i, i + 2), 16));
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      let n = 0;
      for (let i = 0; i < data.length; i += 4)
        if (data[i + 3]! > 0 && want.every((c, k) => Math.abs(data[i + k]! - c) <= 16)) n++;
      return n;
    },
    [id, hex],
  );
}

/** The legend's text of a chart: what a reader sees beside each series. */
export async function legendText(page: Page, id: string): Promise<string> {
  return page.locator(`#${id} .u-legend`).innerText();
}
