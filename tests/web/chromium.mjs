// What the browser checks share: their --name value arguments, and Debian's chromium (through
// npm playwright-core, headless) with a page whose console errors and uncaught exceptions are
// collected into report.console_errors.
import { chromium } from 'playwright-core';

export function parseArgs(argv) {
  const args = {};
  for (let i = 2; i < argv.length; i += 2) args[argv[i].slice(2)] = argv[i + 1];
  return args;
}

export async function openPage(report, viewport) {
  const browser = await chromium.launch({
    executablePath: process.env.LGS_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage']
  });
  const page = await browser.newPage({ viewport });
  page.on('console', (m) => { if (m.type() === 'error') report.console_errors.push(m.text()); });
  page.on('pageerror', (e) => report.console_errors.push(`uncaught: ${e.message}`));
  return { browser, page };
}

// How many pixels of Open MCT's first plot series (blue; the grid is grey) a screenshot of a
// chart (`png`, a Buffer) has in the columns of each named time range, the chart's x axis
// running from `start` to `end` (ms). Decoded in the page: a WebGL canvas keeps no pixels to
// read, its screenshot does. Returns { width, height, <name>: count, ... }.
export async function seriesPixels(page, png, start, end, ranges) {
  return page.evaluate(async ({ data, start, end, ranges }) => {
    const image = new Image();
    image.src = `data:image/png;base64,${data}`;
    await image.decode();
    const c = document.createElement('canvas');
    c.width = image.width;
    c.height = image.height;
    const ctx = c.getContext('2d');
    ctx.drawImage(image, 0, 0);
    const pixels = ctx.getImageData(0, 0, c.width, c.height).data;
    const column = (t) => Math.round((t - start) / (end - start) * (c.width - 1));
    const count = ([t0, t1]) => {
      let n = 0;
      for (let x = Math.max(0, column(t0)); x <= Math.min(c.width - 1, column(t1)); ++x) {
        for (let y = 0; y < c.height; ++y) {
          const i = 4 * (y * c.width + x);
          const [r, , b] = [pixels[i], pixels[i + 1], pixels[i + 2]];
          if (b > 150 && b > r + 60) ++n;
        }
      }
      return n;
    };
    const out = { width: c.width, height: c.height };
    for (const [name, range] of Object.entries(ranges)) out[name] = count(range);
    return out;
  }, { data: png.toString('base64'), start, end, ranges });
}
