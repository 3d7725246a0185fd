// Drives headless Chromium (Debian's) through the coordinator's web view of one running job, the
// way a person would: opens the job page, is sent to the login form, logs in with the token, sees
// the card WAIT_CARD running, creates GO_FILE (which the card waits for), sees the card succeed
// without a reload, counts the DAG's boxes and arrows, opens the card's output, and saves a
// screenshot. Prints what it saw as one JSON line on stdout (the C++ test checks it); exits 1 on
// any error or timeout, after a screenshot of the failure. Every wait has a deadline.
//
// Environment: WEB_URL (http://127.0.0.1:PORT/), JOB_ID, TOKEN_FILE, WAIT_CARD, GO_FILE,
// SCREENSHOT (a .png path), CHROMIUM (default /usr/bin/chromium).
import fs from 'node:fs';

import {deadline, env, launch, newPage, openLoggedIn} from './browser_session.mjs';

const webUrl = env('WEB_URL'), jobId = env('JOB_ID'), card = env('WAIT_CARD');
const goFile = env('GO_FILE'), screenshot = env('SCREENSHOT');
const overall = deadline('job_page.mjs', 100000);

const browser = await launch();
const seen = {};
let page;
try {
  page = await newPage(browser);
  const box = state => `#dag .card[data-card="${card}"][data-state="${state}"]`;

  // Not logged in: the job page answers 401 with the login form.
  await openLoggedIn(page, webUrl, `jobs/${encodeURIComponent(jobId)}`, env('TOKEN_FILE'), seen);
  await page.waitForSelector('#dag');
  // A reload would clear this: its presence at the end proves the page was updated in place.
  await page.evaluate(() => { window.__sameDocument = true; });

  await page.waitForSelector(box('running'));
  seen.saw_running = true;
  seen.boxes = await page.locator('#dag .card').count();
  seen.arrows = await page.locator('#dag .edge').count();
  seen.cookie_http_only =
      (await page.context().cookies()).some(c => c.name === 'hollerith_token' && c.httpOnly &&
                                                 c.sameSite === 'Strict');
  fs.writeFileSync(goFile, 'go\n');  // only now: the card was seen running

  await page.waitForSelector(box('succeeded'));
  seen.saw_succeeded = true;
  await page.waitForFunction(() => document.getElementById('job-state').textContent !== 'running');
  seen.job_state = await page.textContent('#job-state');
  seen.same_document = await page.evaluate(() => window.__sameDocument === true);
  seen.final_states = await page.locator('#dag .card').evaluateAll(
      boxes => boxes.map(b => b.dataset.state));
  seen.labels = await page.locator('#dag .card text').allTextContents();
  seen.stack_nodes = await page.locator('#dag .stack-node').allTextContents();
  seen.timeline_bars = await page.locator('#timeline .run').count();
  seen.timeline_lanes = await page.locator('#timeline .lane-name').allTextContents();

  await page.click(`#dag .card[data-card="${card}"]`);
  await page.waitForSelector('#card-output[data-complete="true"]');
  seen.panel_title = await page.textContent('#card-name');
  seen.output = await page.textContent('#card-output');
  await page.screenshot({path: screenshot, fullPage: true});
  seen.screenshot = screenshot;
  console.log(JSON.stringify(seen));
} catch (e) {
  console.error(`job_page.mjs: ${e.message}\nseen so far: ${JSON.stringify(seen)}`);
  if (page) await page.screenshot({path: screenshot.replace(/\.png$/, '-failure.png')}).catch(() => {});
  process.exitCode = 1;
} finally {
  await browser.close();
  clearTimeout(overall);
}
