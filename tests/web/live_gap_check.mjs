// Opens Open MCT's own plot of one field in real time (a one-minute window) in Debian's chromium,
// lets the field's stream fall silent while the plot is open (the emulator is stopped with
// SIGSTOP, then let go with SIGCONT), and reports as one JSON object on stdout how many line
// pixels the chart has in the silence and in the data before it, and what the same field's live
// table (another tab) shows: rows, and none of them a gap point. The test in
// tests/integration/web_test.cpp starts the real emulator and station and checks the report.
//
//   node live_gap_check.mjs --url http://127.0.0.1:PORT --key KEY --pid EMULATOR_PID
//        --silence-ms 8000 --screenshot FILE
import { openPage, parseArgs, seriesPixels } from './chromium.mjs';

const args = parseArgs(process.argv);
const silence = Number(args['silence-ms'] || 8000);
const report = { console_errors: [], steps: [], live: 0 };
const step = (name) => report.steps.push(name);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const { browser, page } = await openPage(report, { width: 1280, height: 800 });
let stopped = false;
try {
  page.on('websocket', (ws) => ws.on('framereceived', (frame) => {
    const message = JSON.parse(frame.payload);
    if (message.type === 'data') report.live += message.data.filter((d) => d.key === args.key).length;
  }));
  await page.goto(`${args.url}/#/browse/lgs:rover/lgs:${args.key}?tc.mode=local&tc.startDelta=60000` +
    '&tc.endDelta=5000&tc.timeSystem=utc&view=plot-single');
  await page.waitForFunction(() => document.querySelectorAll('canvas').length >= 1, null, { timeout: 30000 });
  // The same field's live table beside it, through the same silence: it gets no gap rows.
  const table = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  table.on('pageerror', (e) => report.console_errors.push(`table: uncaught: ${e.message}`));
  await table.goto(`${args.url}/#/browse/lgs:rover/lgs:${args.key}?tc.mode=local&tc.startDelta=60000` +
    '&tc.endDelta=5000&tc.timeSystem=utc&view=table');
  // 12 s of live points, then the silence, then 6 s of points again.
  for (let i = 0; i < 300 && report.live < 20; ++i) await sleep(100);
  await sleep(12000);
  step('live');
  process.kill(Number(args.pid), 'SIGSTOP');
  stopped = true;
  report.silence_from = Date.now();
  await sleep(silence);
  process.kill(Number(args.pid), 'SIGCONT');
  stopped = false;
  report.silence_to = Date.now();
  const before = report.live;
  for (let i = 0; i < 100 && report.live === before; ++i) await sleep(100);
  report.points_after = report.live - before;
  await sleep(6000);
  step('silence');

  const chart = page.locator('canvas').last();
  const box = await chart.boundingBox();
  const boundsBefore = await page.evaluate(() => openmct.time.getBounds());
  const png = await page.screenshot({ clip: box });
  const boundsAfter = await page.evaluate(() => openmct.time.getBounds());
  // The conductor ticks while the screenshot is taken: the middle of the two bounds.
  const start = (boundsBefore.start + boundsAfter.start) / 2, end = (boundsBefore.end + boundsAfter.end) / 2;
  report.bounds = { start, end, drift_ms: boundsAfter.start - boundsBefore.start };
  const { silence_from: from, silence_to: to } = report;
  const pause = to - from;
  Object.assign(report, await seriesPixels(page, png, start, end, {
    gap_pixels: [from + 0.25 * pause, to - 0.25 * pause], before_pixels: [from - 10000, from - 2000] }));
  await page.screenshot({ path: args.screenshot });
  report.table_rows = await table.locator('tbody tr').count();
  report.table_nan_cells = await table.locator('td', { hasText: 'NaN' }).count();
  step('measured');
} catch (e) {
  report.error = String(e && e.stack || e);
} finally {
  if (stopped) process.kill(Number(args.pid), 'SIGCONT');
  await browser.close();
  console.log(JSON.stringify(report));
}
