// Drives the operations overview in Debian's chromium (npm playwright-core, headless) at each
// asked size and reports what it saw as one JSON object on stdout; the console test in
// tests/integration/web_test.cpp starts the real emulator and station, runs this, and checks the
// report against the station's JSON lines.
//
// At each size: the banner's mode and state of charge with the on-board time of the
// housekeeping packet they came from, the clock's SCET and light time, every element that sticks
// out of its panel sideways (clipped or overflowing), every pair of panels that overlap, and a
// screenshot. At the first size it also sends a `turn` from the command panel and waits for the
// timeline to show its stages through to the end, and for an alarm on the timeline.
//
//   node console_check.mjs --url http://127.0.0.1:PORT --sizes 1280x800,1920x1080
//        --screenshot-prefix PATH [--turn-deg 15] [--alarm yes]
//        [--gap-key KEY --plot-start MS --plot-end MS --gap-from MS --gap-to MS]
import { openPage, parseArgs, seriesPixels } from './chromium.mjs';

const args = parseArgs(process.argv);
const sizes = (args.sizes || '1280x800,1920x1080').split(',').map((s) => s.split('x').map(Number));
const report = { console_errors: [], sizes: [], steps: [] };
const step = (name) => report.steps.push(name);

// What sticks out of a panel sideways, and which panels overlap (page coordinates).
function measureLayout() {
  const describe = (e) => {
    const cls = typeof e.className === 'string' ? e.className : (e.className && e.className.baseVal) || '';
    return `${e.tagName.toLowerCase()}${cls ? `.${cls.trim().split(/\s+/).join('.')}` : ''}` +
      ` "${(e.textContent || '').trim().slice(0, 40)}"`;
  };
  const panels = [...document.querySelectorAll('.lgs-overview > .lgs-panel')];
  const out = { panels: [], overflowing: [], overlaps: [], cells_checked: 0 };
  const rects = panels.map((p) => p.getBoundingClientRect());
  panels.forEach((p, i) => {
    const r = rects[i];
    out.panels.push({ panel: p.dataset.panel, x: r.x, y: r.y, width: r.width, height: r.height });
    // The panel itself and every table cell and chip: nothing wider than its box.
    for (const e of [p, p.querySelector('.lgs-panel-body'), ...p.querySelectorAll('td, th, .lgs-chip, .lgs-view')]) {
      if (!e) continue;
      if (e.matches('td, th')) ++out.cells_checked;
      if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'auto') {
        out.overflowing.push({ panel: p.dataset.panel, element: describe(e),
          scroll_width: e.scrollWidth, client_width: e.clientWidth });
      }
    }
    // Every visible element inside the panel's left and right edges (clipped content would not
    // show as a scrollWidth where an ancestor hides overflow).
    for (const e of p.querySelectorAll('*')) {
      const b = e.getBoundingClientRect();
      if (b.width === 0 || b.height === 0 || e.closest('[hidden]')) continue;
      if (b.left < r.left - 1 || b.right > r.right + 1) {
        out.overflowing.push({ panel: p.dataset.panel, element: describe(e),
          left: b.left - r.left, right: b.right - r.right });
      }
    }
  });
  for (let i = 0; i < rects.length; ++i) {
    for (let j = i + 1; j < rects.length; ++j) {
      const a = rects[i], b = rects[j];
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 0.5 && h > 0.5) out.overlaps.push([panels[i].dataset.panel, panels[j].dataset.panel, w, h]);
    }
  }
  return out;
}

const { browser, page } = await openPage(report, { width: sizes[0][0], height: sizes[0][1] });
try {
  for (const [index, [width, height]] of sizes.entries()) {
    await page.setViewportSize({ width, height });
    await page.goto(`${args.url}/#/browse/lgs:rover/lgs:overview`);
    const state = page.locator('.lgs-state');
    await page.waitForFunction(() => {
      const s = document.querySelector('.lgs-state');
      return s && s.dataset.soc && s.dataset.scetNs && s.dataset.mode;
    }, null, { timeout: 30000 });
    step(`banner ${width}x${height}`);
    const seen = { width, height };
    if (index === 0 && args['turn-deg']) {
      // A turn from the command panel; its stages on the timeline, in order, to the end.
      const form = page.locator('.lgs-area-commands .lgs-commands');
      await form.locator('select[name=command]').selectOption('turn');
      await form.locator('input[name=angle_deg]').fill(args['turn-deg']);
      await form.getByRole('button', { name: 'Send' }).click();
      await form.locator('.lgs-result').filter({ hasText: '#' }).waitFor({ timeout: 10000 });
      const id = (await form.locator('.lgs-result').innerText()).match(/#(\d+)/)[1];
      const rows = page.locator(`.lgs-area-timeline tr.lgs-timeline-row[data-kind=command][data-command-id="${id}"]`);
      await page.locator(`.lgs-area-timeline tr.lgs-timeline-row[data-kind=command][data-command-id="${id}"]` +
        '[data-state=completed]').waitFor({ timeout: 60000 });
      // The list is newest first, in the order the station recorded the stages.
      const stages = await rows.evaluateAll((list) => list
        .map((r) => ({ state: r.dataset.state, utc: Number(r.dataset.utc), name: r.dataset.name }))
        .reverse());
      // The mark on the command lane.
      const marks = await page.locator('.lgs-area-timeline circle.lgs-mark-command').count();
      report.turn = { command_id: Number(id), stages, command_marks: marks };
      step('turn');
    }
    if (index === 0 && args.alarm) {
      const alarm = page.locator('.lgs-area-timeline tr.lgs-timeline-row[data-kind=alarm]').last();
      await alarm.waitFor({ timeout: 60000 });
      report.alarm = { name: await alarm.getAttribute('data-name'), state: await alarm.getAttribute('data-state'),
        class: await alarm.getAttribute('class'), text: await alarm.innerText() };
      step('alarm');
    }
    // Give live data a moment to fill the panels before measuring.
    await page.waitForTimeout(1500);
    Object.assign(seen, await state.evaluate((s) => ({
      mode: s.dataset.mode, soc: Number(s.dataset.soc), housekeeping_onboard_ns: s.dataset.housekeepingOnboardNs,
      scet_ns: s.dataset.scetNs, light_time_s: Number(s.dataset.lightTimeS),
      scet_text: s.querySelector('.lgs-clock-scet .lgs-chip-value').textContent,
      light_text: s.querySelector('.lgs-clock-light .lgs-chip-value').textContent,
      mode_text: s.querySelector('.lgs-chip-mode .lgs-chip-value').textContent,
      battery_text: s.querySelector('.lgs-chip-battery .lgs-chip-value').textContent,
      arrives_text: s.querySelector('.lgs-clock-arrives .lgs-chip-value').textContent,
      sunlight_text: s.querySelector('.lgs-clock-sunlight .lgs-chip-value').textContent,
      next_loss_of_sun_scet_ns: s.dataset.nextLossOfSunScetNs, in_shadow: s.dataset.inShadow
    })));
    seen.layout = await page.evaluate(measureLayout);
    seen.power = await page.locator('.lgs-power').evaluate((p) => ({
      segments: JSON.parse(p.dataset.segments || '{}'), points: JSON.parse(p.dataset.points || '{}') }));
    seen.timeline_entries = Number(await page.locator('.lgs-area-timeline .lgs-timeline').getAttribute('data-entries'));
    seen.screenshot = `${args['screenshot-prefix']}-${width}x${height}.png`;
    await page.screenshot({ path: seen.screenshot });
    report.sizes.push(seen);
    step(`measured ${width}x${height}`);
  }
  // The rover's events, one row each, under the event stream in the tree.
  await page.goto(`${args.url}/#/browse/lgs:rover/lgs:stream.event/lgs:events`);
  await page.locator('.lgs-timeline[data-entries]').waitFor({ timeout: 30000 });
  await page.waitForTimeout(2500);  // the next refresh: every event recorded by now
  report.events_view_read_ms = Date.now();
  report.events_view = await page.locator('.lgs-timeline tr.lgs-timeline-row').evaluateAll((rows) =>
    rows.map((r) => ({ kind: r.dataset.kind, name: r.dataset.name,
      message: r.querySelector('td:last-child').textContent })).reverse());
  step('events');

  // Open MCT's own plot of a field over a range with a pause in it: no line across the pause.
  // The chart is read back from a screenshot of it (a WebGL canvas keeps no pixels to read):
  // series-coloured pixels in the columns of the pause's middle, and in those of the data before it.
  if (args['gap-key']) {
    const [start, end, from, to] = ['plot-start', 'plot-end', 'gap-from', 'gap-to'].map((k) => Number(args[k]));
    // A page of its own: a hash change on a page in real time keeps the conductor's bounds.
    await page.goto('about:blank');
    const history = page.waitForResponse((r) => r.url().includes('/api/history') &&
      r.url().includes(`key=${args['gap-key']}`) && r.url().includes(`start=${start}`));
    await page.goto(`${args.url}/#/browse/lgs:rover/lgs:${args['gap-key']}?tc.mode=fixed&tc.startBound=${start}` +
      `&tc.endBound=${end}&tc.timeSystem=utc&view=plot-single`);
    await history;
    await page.waitForTimeout(2000);
    const chart = page.locator('canvas').last();
    const box = await chart.boundingBox();
    const png = await page.screenshot({ clip: box });
    const pause = to - from;
    report.gap_plot = await seriesPixels(page, png, start, end, {
      gap_pixels: [from + 0.25 * pause, to - 0.25 * pause],
      before_pixels: [start + 0.25 * (from - start), from - 0.25 * (from - start)] });
    await page.screenshot({ path: `${args['screenshot-prefix']}-gap-plot.png` });
    step('gap plot');
  }
} catch (e) {
  report.error = String(e && e.stack || e);
} finally {
  await browser.close();
  console.log(JSON.stringify(report));
}
