// Drives the station's "Images and files" view and a camera's Open MCT imagery view in Debian's
// chromium (npm playwright-core, headless) while images come down, and reports what it saw as
// one JSON object on stdout; tests/integration/products_test.cpp checks it against the
// emulator's truth.
//
//   node images_check.mjs --url http://127.0.0.1:PORT --camera navcam_left --images N
//        --screenshot FILE.png
import { openPage, parseArgs } from './chromium.mjs';

const args = parseArgs(process.argv);
const report = { console_errors: [], transfer: null, thumbnails: [], detail: null, imagery: null };

const { browser, page } = await openPage(report, { width: 1600, height: 1000 });
try {
  // 1. The downlink queue shows a file coming down, with a progress bar and an ETA.
  await page.goto(`${args.url}/#/browse/lgs:rover/lgs:downlink`);
  await page.locator('tr.lgs-transfer').first().waitFor({ timeout: 60000 });
  // The ETA needs a measured rate: wait for a transfer still coming down that has one (a second
  // or two of data), then read its row at once (the page redraws while files complete).
  const inFlight = () => Array.from(document.querySelectorAll('tr.lgs-transfer')).find((tr) => {
    const p = tr.querySelector('progress');
    const eta = tr.querySelector('td.lgs-eta');
    return p && Number(p.getAttribute('value')) < 1 && eta && /\d+ (s|m|h)/.test(eta.textContent);
  });
  await page.waitForFunction(`(${inFlight.toString()})() !== undefined`, null, { timeout: 30000 })
    .catch(() => {});
  report.transfer = await page.evaluate(`(() => {
    const tr = (${inFlight.toString()})() || document.querySelector('tr.lgs-transfer');
    return { id: tr.getAttribute('data-transfer-id'), text: tr.innerText,
      progress: Number(tr.querySelector('progress').getAttribute('value')),
      eta: tr.querySelector('td.lgs-eta').innerText };
  })()`);

  // 2. Every image appears among the kept products; the newest is shown with its record.
  const want = Number(args.images || 1);
  await page.waitForFunction((n) => document.querySelectorAll('.lgs-thumb').length >= n, want,
    { timeout: 90000 });
  for (const thumb of await page.locator('.lgs-thumb').all()) {
    report.thumbnails.push(await thumb.getAttribute('data-product'));
  }
  const last = page.locator('.lgs-thumb').last();
  await last.click();
  const image = page.locator('.lgs-image-detail img.lgs-image');
  await image.waitFor({ timeout: 10000 });
  await page.waitForFunction(() => {
    const img = document.querySelector('.lgs-image-detail img.lgs-image');
    return img && img.complete && img.naturalWidth > 0;
  }, null, { timeout: 10000 });
  report.detail = {
    product: await last.getAttribute('data-product'),
    src: await image.getAttribute('src'),
    natural: await image.evaluate((img) => [img.naturalWidth, img.naturalHeight]),
    meta: await page.locator('.lgs-image-meta').innerText()
  };
  if (args.screenshot) await page.screenshot({ path: args.screenshot });

  // 3. The camera's imagery view (Open MCT's) shows the station's images.
  await page.goto(`${args.url}/#/browse/lgs:rover/lgs:images/lgs:images.${args.camera}`);
  await page.waitForFunction(() => {
    const img = document.querySelector('img.js-imageryView-image');
    return img && (img.getAttribute('src') || '').includes('/api/products/file') &&
      img.complete && img.naturalWidth > 0;
  }, null, { timeout: 30000 });
  report.imagery = await page.evaluate(() => {
    const img = document.querySelector('img.js-imageryView-image');
    return { src: img.getAttribute('src'), natural: [img.naturalWidth, img.naturalHeight],
      thumbnails: document.querySelectorAll('.c-imagery__thumb').length };
  });
  if (args.screenshot) await page.screenshot({ path: args.screenshot.replace(/\.png$/, '-imagery.png') });
} catch (e) {
  report.error = String(e && e.stack ? e.stack : e);
} finally {
  await browser.close();
}
process.stdout.write(`${JSON.stringify(report)}\n`);
