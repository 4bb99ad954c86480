// Drives the station's traverse map in Debian's chromium (npm playwright-core, headless) and
// reports what it drew as one JSON object on stdout; tests/integration/map_test.cpp checks it
// against the recording.
//
//   node map_check.mjs --url http://127.0.0.1:PORT --site X,Y --id N --observed X,Y --empty X,Y
//        --screenshot FILE.png
// --site, --id: a soil site to click (site metres) and its measurement's id; --observed / --empty: a point of the map that was
// observed (safe, away from the path) and one nothing observed, whose pixels are reported.
import { openPage, parseArgs } from './chromium.mjs';

const args = parseArgs(process.argv);
const point = (s) => s.split(',').map(Number);
const report = { console_errors: [] };
const began = Date.now();
const mark = (what) => { (report.timing_ms ||= {})[what] = Date.now() - began; };

const { browser, page } = await openPage(report, { width: 1600, height: 1000 });
try {
  await page.goto(`${args.url}/#/browse/lgs:rover/lgs:traverse`);
  // The base layer is drawn once its picture has come and decoded.
  await page.waitForSelector('.lgs-traverse[data-base-layer="hillshade"]', { timeout: 60000 });
  // A draw after the traverse and the pictures are in.
  await page.waitForFunction(() => Number(document.querySelector('.lgs-traverse').dataset.sites) > 0,
    null, { timeout: 30000 });
  const state = () => page.evaluate(() => {
    const root = document.querySelector('.lgs-traverse');
    const map = root.lgsMap;
    map.draw();
    const bar = root.querySelector('.lgs-scalebar-bar');
    const north = root.querySelector('.lgs-north');
    return {
      base_layer: root.dataset.baseLayer,
      grid_step_m: Number(root.dataset.gridStepM),
      grid_labels: root.dataset.gridLabels.split('|'),
      scale_label: root.querySelector('.lgs-scalebar-label').textContent,
      scale_bar_px: bar.getBoundingClientRect().width,
      px_per_m: map.view.scale,
      north_visible: north.getBoundingClientRect().height > 10 && north.textContent.includes('N'),
      sites: Number(root.dataset.sites),
      footprints: Number(root.dataset.footprints),
      rover: root.dataset.rover,
      render_ms: Number(root.dataset.renderMs),
      caption: root.querySelector('.lgs-map-caption').textContent
    };
  });
  mark('drawn');
  report.fitted = await state();

  // The pixels at an observed and an unobserved point (the canvas, before any marker is chosen).
  report.pixels = await page.evaluate(([o, e]) => {
    const root = document.querySelector('.lgs-traverse');
    const canvas = root.querySelector('canvas');
    const g = canvas.getContext('2d');
    const at = ([x, y]) => {
      const [px, py] = root.lgsMap.toScreen(x, y);
      return Array.from(g.getImageData(Math.round(px), Math.round(py), 1, 1).data);
    };
    return { observed: at(o), empty: at(e) };
  }, [point(args.observed), point(args.empty)]);

  // Click the site: its result opens.
  const [sx, sy] = await page.evaluate(([x, y]) => {
    const root = document.querySelector('.lgs-traverse');
    return root.lgsMap.toScreen(x, y);
  }, point(args.site));
  const box = await page.locator('.lgs-traverse canvas').boundingBox();
  await page.mouse.click(box.x + sx, box.y + sy);
  await page.waitForSelector('.lgs-map-detail:not([hidden]) table.lgs-site-result', { timeout: 10000 });
  // Several measurements at one spot: the one asked for is chosen from the list.
  const row = page.locator(`.lgs-map-detail tr[data-measurement="${args.id}"]`);
  if (await row.count()) await row.click();
  await page.waitForSelector(`.lgs-map-detail table.lgs-site-result[data-measurement="${args.id}"]`,
    { timeout: 10000 });
  report.listed = await page.locator('.lgs-map-detail table.lgs-site-list tr').count();
  report.clicked = await page.evaluate(() => Array.from(
    document.querySelectorAll('.lgs-map-detail table.lgs-site-result')).map((t) => ({
    id: Number(t.dataset.measurement), text: t.innerText })));
  mark('clicked');
  if (args.screenshot) await page.screenshot({ path: args.screenshot });

  // Zoom in on the site (wheel, with the panel closed): the grid and scale follow, and a finer
  // picture comes.
  await page.locator('.lgs-map-close').click();
  await page.mouse.move(box.x + sx, box.y + sy);
  for (let i = 0; i < 6; ++i) {
    await page.mouse.wheel(0, -300);
    await page.waitForTimeout(50);
  }
  await page.waitForTimeout(800);
  report.zoomed = await state();
  mark('zoomed');
  if (args.screenshot) await page.screenshot({ path: args.screenshot.replace(/\.png$/, '-zoomed.png') });

  // From the map to the science view: the site's button opens its spectrum or composition.
  const [zx, zy] = await page.evaluate(([x, y]) => {
    const root = document.querySelector('.lgs-traverse');
    return root.lgsMap.toScreen(x, y);
  }, point(args.site));
  await page.mouse.click(box.x + zx, box.y + zy);
  await page.waitForSelector('.lgs-map-detail:not([hidden]) table.lgs-site-result', { timeout: 10000 });
  const again = page.locator(`.lgs-map-detail tr[data-measurement="${args.id}"]`);
  if (await again.count()) await again.click();
  await page.locator(`.lgs-map-detail table.lgs-site-result[data-measurement="${args.id}"] button.lgs-to-science`).click();
  await page.waitForSelector(`.lgs-science h3`, { timeout: 30000 });
  await page.waitForFunction((id) => (document.querySelector('.lgs-science h3') || {}).textContent
    .includes(`#${id} `), args.id, { timeout: 30000 });
  report.science_from_map = await page.locator('.lgs-science h3').innerText();
  mark('done');
} catch (e) {
  report.error = String(e && e.stack ? e.stack : e);
} finally {
  await browser.close();
}
process.stdout.write(`${JSON.stringify(report)}\n`);
