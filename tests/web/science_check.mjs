// Drives the station's science view in Debian's chromium (npm playwright-core, headless) and
// reports what it drew as one JSON object on stdout; tests/integration/map_test.cpp checks it
// against the recording.
//
//   node science_check.mjs --url http://127.0.0.1:PORT --vnis ID,ID --apxs ID --neutron ID
//        --screenshot FILE.png
// --vnis: two VNIS measurements (the second laid over the first); --apxs, --neutron: one each.
import { openPage, parseArgs } from './chromium.mjs';

const args = parseArgs(process.argv);
const report = { console_errors: [] };
const began = Date.now();
const mark = (what) => { (report.timing_ms ||= {})[what] = Date.now() - began; };

const { browser, page } = await openPage(report, { width: 1600, height: 1000 });
const row = (id) => page.locator(`tr.lgs-science-row[data-measurement="${id}"]`);
const spectra = () => page.evaluate(() => Array.from(document.querySelectorAll('polyline.lgs-spectrum'))
  .map((p) => ({ id: Number(p.dataset.measurement), points: p.points.numberOfItems,
    first: [p.points.getItem(0).x, p.points.getItem(0).y] })));
try {
  await page.goto(`${args.url}/#/browse/lgs:rover/lgs:science`);
  await page.waitForSelector('tr.lgs-science-row', { timeout: 60000 });
  mark('listed');
  report.rows = await page.locator('tr.lgs-science-row').count();
  const [first, second] = args.vnis.split(',');
  await row(first).click();
  await page.waitForSelector(`polyline.lgs-spectrum[data-measurement="${first}"]`, { timeout: 10000 });
  report.spectrum = await spectra();
  report.bands_marked = await page.evaluate(() => Array.from(document.querySelectorAll('.lgs-spectrum-plot text'))
    .map((t) => t.textContent).filter((t) => t.includes('µm ')));
  report.legend = await page.locator('.lgs-science-legend').innerText();
  await page.locator('input.lgs-science-overlay').check();
  await row(second).click();
  await page.waitForFunction(() => document.querySelectorAll('polyline.lgs-spectrum').length === 2,
    null, { timeout: 10000 });
  report.overlaid = await spectra();
  if (args.screenshot) await page.screenshot({ path: args.screenshot });

  await row(args.apxs).click();
  await page.waitForSelector('rect.lgs-oxide-bar', { timeout: 10000 });
  report.oxides = await page.evaluate(() => Object.fromEntries(Array.from(
    document.querySelectorAll('rect.lgs-oxide-bar')).map((r) => [r.dataset.oxide, Number(r.dataset.value)])));
  report.references = await page.locator('rect.lgs-oxide-reference').count();
  if (args.screenshot) await page.screenshot({ path: args.screenshot.replace(/\.png$/, '-apxs.png') });

  await row(args.neutron).click();
  await page.waitForSelector(`table.lgs-neutron-result[data-measurement="${args.neutron}"]`, { timeout: 10000 });
  report.neutron = await page.locator('table.lgs-neutron-result').innerText();
  mark('done');
} catch (e) {
  report.error = String(e && e.stack ? e.stack : e);
} finally {
  await browser.close();
}
process.stdout.write(`${JSON.stringify(report)}\n`);
