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
