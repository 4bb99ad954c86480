// Drives the station's web UI in Debian's chromium (npm playwright-core, headless) and reports
// what it saw as one JSON object on stdout; tests/integration/web_test.cpp starts the real
// emulator and station, runs this, and checks the report against the ground truth.
//
//   node browser_check.mjs --url http://127.0.0.1:PORT --screenshot FILE
//        --history-key KEY --history-start MS --history-end MS [--command ping]
import { openPage, parseArgs } from './chromium.mjs';

const args = parseArgs(process.argv);
const report = { console_errors: [], live: {}, alarm: null, alarm_acknowledged: false,
  history: null, command: null, steps: [] };
const step = (name) => report.steps.push(name);

const { browser, page } = await openPage(report, { width: 1920, height: 1080 });
try {
  page.on('websocket', (ws) => ws.on('framereceived', (frame) => {
    const message = JSON.parse(frame.payload);
    if (message.type !== 'data') return;
    for (const d of message.data) report.live[d.key] = (report.live[d.key] || 0) + 1;
  }));

  // 1. The overview opens by itself (its map and power panel draw).
  await page.goto(`${args.url}/`);
  await page.getByText('Operations overview').first().waitFor({ timeout: 30000 });
  step('overview');
  await page.waitForFunction(() => document.querySelectorAll('.lgs-overview canvas').length >= 2,
    null, { timeout: 30000 });
  const liveKey = 'radiation.dose_rate_ugy_per_h';

  // 2. The limit violation shows as an alarm; acknowledge it from the page.
  const row = page.locator(`tr.lgs-alarm[data-alarm-id="${liveKey}"]`);
  await row.waitFor({ timeout: 60000 });
  report.alarm = { class: await row.getAttribute('class'), text: await row.innerText() };
  // The storm keeps rising: a warning may escalate to critical, which asks for a new
  // acknowledgement; acknowledge until the page shows it taken.
  const acked = page.locator(`tr.lgs-alarm[data-alarm-id="${liveKey}"]`, { hasText: 'ack by web' });
  for (let i = 0; i < 10 && !report.alarm_acknowledged; ++i) {
    const button = row.getByRole('button', { name: 'Ack' });
    if (await button.count()) await button.click();
    report.alarm_acknowledged = await acked.waitFor({ timeout: 3000 }).then(() => true, () => false);
  }
  step('alarm');

  // 3. A command from the form goes through the station's stages to completion.
  if (args.command) {
    const form = page.locator('.lgs-commands');
    await form.locator('select[name=command]').selectOption(args.command);
    await form.getByRole('button', { name: 'Send' }).click();
    await form.locator('.lgs-result').filter({ hasText: '#' }).waitFor({ timeout: 10000 });
    const id = (await form.locator('.lgs-result').innerText()).match(/#(\d+)/)[1];
    const done = form.locator('tr', { hasText: 'completed' }).filter({ has: page.locator(`td:text-is("${id}")`) });
    await done.waitFor({ timeout: 30000 });
    report.command = { id: Number(id), row: await done.innerText() };
    step('command');
  }
  await page.screenshot({ path: args.screenshot });
  step('screenshot');

  // The storm's dose rate in Open MCT's own plot, live over the WebSocket (the points the
  // overview's panels asked for do not count: only this field's).
  report.live = {};
  await page.goto(`${args.url}/#/browse/lgs:rover/lgs:${liveKey}?view=plot-single`);
  await page.waitForFunction(() => document.querySelectorAll('canvas').length >= 1, null,
    { timeout: 30000 });
  for (let i = 0; i < 300 && (report.live[liveKey] || 0) < 5; ++i) await page.waitForTimeout(100);
  step('live');

  // 4. History for a past range: a plot in fixed time asks /api/history.
  if (args['history-key']) {
    // A page of its own: from this field's live plot, a hash change keeps the live bounds.
    await page.goto('about:blank');
    const history = page.waitForResponse((r) => r.url().includes('/api/history') &&
      r.url().includes(`key=${args['history-key']}`) && r.url().includes(`start=${args['history-start']}`));
    const path = `#/browse/lgs:rover/lgs:${args['history-key']}?tc.mode=fixed&tc.startBound=` +
      `${args['history-start']}&tc.endBound=${args['history-end']}&tc.timeSystem=utc&view=plot-single`;
    await page.goto(`${args.url}/${path}`);
    const response = await history;
    report.history = { url: response.url(), status: response.status(), samples: await response.json() };
    await page.waitForTimeout(1000);
    await page.screenshot({ path: args.screenshot.replace(/\.png$/, '-history.png') });
    step('history');
  }
} catch (e) {
  report.error = String(e && e.stack || e);
} finally {
  await browser.close();
  console.log(JSON.stringify(report));
}
