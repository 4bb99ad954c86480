// Measures the traverse map over a long range in Debian's chromium (npm playwright-core,
// headless): the time from opening the page until the map has drawn the range's path, hazards
// and soil sites on its base layer, and the time of one draw. One JSON object on stdout.
// A benchmark, not a test: docs/performance.md says how to run it (over the recordings
// `gsctl bench --only archive --keep-archive DIR` leaves, with a station started on them).
//
//   node map_bench.mjs --url http://127.0.0.1:PORT --start MS --end MS [--runs N]
//        [--screenshot FILE.png]
import { openPage, parseArgs } from './chromium.mjs';

const args = parseArgs(process.argv);
const runs = Number(args.runs || 3);
const report = { console_errors: [], runs: [] };
const { browser, page } = await openPage(report, { width: 1600, height: 1000 });
try {
  for (let i = 0; i < runs; ++i) {
    // A cold page each time (the same tab would keep the map it drew).
    await page.goto('about:blank');
    const began = Date.now();
    // Open MCT's time conductor, fixed to the range, in the URL as its router reads it.
    await page.goto(`${args.url}/#/browse/lgs:rover/lgs:traverse?tc.mode=fixed` +
      `&tc.startBound=${args.start}&tc.endBound=${args.end}&tc.timeSystem=utc`);
    await page.waitForFunction(() => {
      const root = document.querySelector('.lgs-traverse');
      return root && root.dataset.baseLayer && Number(root.dataset.sites) > 0;
    }, null, { timeout: 120000, polling: 20 });
    const drawn = Date.now() - began;
    // When the traverse's data had come: the browser's own timing of that request.
    const fetched = await page.evaluate(() => {
      const e = performance.getEntriesByType('resource').filter((r) => r.name.includes('/api/traverse'));
      return e.length ? { traverse_request_ms: e[0].duration, traverse_bytes: e[0].transferSize } : {};
    });
    const state = await page.evaluate(() => {
      const root = document.querySelector('.lgs-traverse');
      const t0 = performance.now();
      root.lgsMap.draw();
      return {
        redraw_ms: performance.now() - t0,
        first_draw_ms: Number(root.dataset.renderMs),
        sites: Number(root.dataset.sites),
        base_layer: root.dataset.baseLayer
      };
    });
    report.runs.push({ open_to_drawn_ms: drawn, ...fetched, ...state });
  }
  // A fixed range in the past is asked for once, not on every 2-s poll.
  await page.waitForTimeout(6500);
  report.traverse_requests_in_6_5_s = await page.evaluate(() => performance
    .getEntriesByType('resource').filter((r) => r.name.includes('/api/traverse')).length);
  if (args.screenshot) await page.screenshot({ path: args.screenshot });
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(report) + '\n');
