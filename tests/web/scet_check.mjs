// Reads one field in the on-board time system (SCET) in Debian's chromium, over a loss of signal
// whose data the rover stored and played back after it, and reports as one JSON object on stdout:
//  - Open MCT's own plot in SCET (fixed): line pixels in the middle of the outage's on-board
//    span (the played-back data is there), and whether history was asked by on-board time;
//  - the same plot in UTC over the outage's ground span: line pixels in its middle (none came);
//  - the power panel in SCET: the samples it holds inside the outage's on-board span;
//  - the timeline in SCET: where it placed the rover's loss-of-signal event;
//  - the real-time SCET clock: its key, the rate it measured and its value against the
//    station's newest SCET run on at that rate.
// The test in tests/integration/web_test.cpp runs the emulator and station and checks it.
//
//   node scet_check.mjs --url URL --key KEY --los SCET_MS --aos SCET_MS
//        --ground-from MS --ground-to MS --screenshot-prefix PATH
import { openPage, parseArgs, seriesPixels } from './chromium.mjs';

const args = parseArgs(process.argv);
const [los, aos, groundFrom, groundTo] = ['los', 'aos', 'ground-from', 'ground-to'].map((k) => Number(args[k]));
const report = { console_errors: [], steps: [] };
const step = (name) => report.steps.push(name);
const outage = aos - los;

const { browser, page } = await openPage(report, { width: 1280, height: 800 });
const plot = async (timeSystem, start, end, middle, shot) => {
  await page.goto('about:blank');  // a page of its own: a hash change keeps the bounds
  const history = page.waitForResponse((r) => r.url().includes('/api/history') &&
    r.url().includes(`key=${args.key}`) && r.url().includes(`start=${start}`));
  await page.goto(`${args.url}/#/browse/lgs:rover/lgs:${args.key}?tc.mode=fixed&tc.startBound=${start}` +
    `&tc.endBound=${end}&tc.timeSystem=${timeSystem}&view=plot-single`);
  const asked = (await history).url();
  await page.waitForTimeout(2000);
  const chart = page.locator('canvas').last();
  const png = await page.screenshot({ clip: await chart.boundingBox() });
  await page.screenshot({ path: `${args['screenshot-prefix']}-${shot}.png` });
  return { asked_onboard: asked.includes('time=onboard'),
    ...(await seriesPixels(page, png, start, end, { middle })) };
};
try {
  // The plot by on-board time, 10 minutes either side of the outage.
  report.scet_plot = await plot('scet', los - 600000, aos + 600000,
    [los + 0.2 * outage, aos - 0.2 * outage], 'scet-plot');
  step('scet plot');
  // By ground time over when the outage was on the ground: nothing came then.
  const groundSpan = groundTo - groundFrom;
  report.utc_plot = await plot('utc', Math.floor(groundFrom - groundSpan), Math.ceil(groundTo + groundSpan),
    [groundFrom + 0.2 * groundSpan, groundTo - 0.2 * groundSpan], 'utc-plot');
  step('utc plot');

  // The power panel and the timeline, in the same on-board range.
  for (const [view, name] of [['lgs:power', 'power'], ['lgs:timeline', 'timeline']]) {
    await page.goto('about:blank');
    await page.goto(`${args.url}/#/browse/lgs:rover/${view}?tc.mode=fixed&tc.startBound=${los - 600000}` +
      `&tc.endBound=${aos + 600000}&tc.timeSystem=scet`);
    if (name === 'power') {
      await page.waitForFunction((key) => {
        const root = document.querySelector('.lgs-power');
        return root && root.lgsPower && root.lgsPower.data.get(key).length > 0;
      }, args.key, { timeout: 20000 });
      report.power = await page.evaluate(({ key, from, to }) => {
        const root = document.querySelector('.lgs-power');
        const points = root.lgsPower.data.get(key);
        return { domain: root.dataset.domain, axis: root.querySelector('.lgs-power-axis').textContent,
          points: points.length, in_outage: points.filter(([t]) => t >= from && t <= to).length };
      }, { key: args.key, from: los, to: aos });
    } else {
      // Two refreshes at least: the correlation's rate is measured between them.
      await page.waitForTimeout(5000);
      await page.waitForSelector('.lgs-timeline-row[data-name="LOSS_OF_SIGNAL"]', { timeout: 20000 });
      report.timeline = await page.evaluate(() => {
        const row = document.querySelector('.lgs-timeline-row[data-name="LOSS_OF_SIGNAL"]');
        return { domain: document.querySelector('.lgs-timeline').dataset.domain,
          header: document.querySelector('.lgs-timeline-list th').textContent,
          los_at: Number(row.dataset.at), los_utc: Number(row.dataset.utc) };
      });
    }
    await page.screenshot({ path: `${args['screenshot-prefix']}-${name}.png` });
    step(name);
  }

  // Real time by on-board time: the conductor follows the SCET clock.
  await page.goto('about:blank');
  await page.goto(`${args.url}/#/browse/lgs:rover/lgs:${args.key}?tc.mode=lgs.scet&tc.startDelta=900000` +
    '&tc.endDelta=5000&tc.timeSystem=scet&view=plot-single');
  await page.waitForFunction(() => openmct.time.getClock() && openmct.time.getClock().measured,
    null, { timeout: 20000 });
  await page.waitForTimeout(3000);
  report.clock = await page.evaluate(async () => {
    const clock = openmct.time.getClock();
    const state = await (await fetch('/api/state')).json();
    const now = Date.now();
    const expected = state.clock.scet_ns / 1e6 + (now - state.clock.scet_received_ns / 1e6) * clock.rate;
    return { key: clock.key, time_system: openmct.time.getTimeSystem().key, rate: clock.rate,
      value: clock.value(), expected, bounds: openmct.time.getBounds() };
  });
  // The live line across the window: 20 slices of it, each with line pixels (a gap point per
  // live batch would leave most of them empty).
  const chart = page.locator('canvas').last();
  const box = await chart.boundingBox();
  const before = await page.evaluate(() => openmct.time.getBounds());
  const png = await page.screenshot({ clip: box });
  const after = await page.evaluate(() => openmct.time.getBounds());
  const start = (before.start + after.start) / 2, end = (before.end + after.end) / 2;
  // From the window's start (history: the page asked it for the rover's clock) to the newest.
  const from = start + 0.05 * (end - start), to = end - 5000 - 0.05 * (end - start);
  const slices = {};
  for (let i = 0; i < 20; ++i) slices[i] = [from + (i / 20) * (to - from), from + ((i + 1) / 20) * (to - from)];
  const counts = await seriesPixels(page, png, start, end, slices);
  report.live_plot = { slices: 20, empty: Object.keys(slices).filter((i) => counts[i] === 0).length };
  await page.screenshot({ path: `${args['screenshot-prefix']}-realtime.png` });
  step('realtime');
} catch (e) {
  report.error = String(e && e.stack || e);
} finally {
  await browser.close();
  console.log(JSON.stringify(report));
}
