// Opens the web view's page of a finished job whose cards came from the result cache, after
// logging in, and reports each card box's state (data-state and the text a person reads) and the
// facts of one card's panel (CARD) as one JSON line on stdout; exits 1 on any error or timeout.
//
// Environment: WEB_URL, JOB_ID, TOKEN_FILE, CARD, CHROMIUM (default /usr/bin/chromium).
import {deadline, env, launch, newPage, openLoggedIn} from './browser_session.mjs';

const webUrl = env('WEB_URL'), jobId = env('JOB_ID'), card = env('CARD');
const overall = deadline('cached_job_page.mjs', 60000);
const browser = await launch();
const seen = {};
try {
  const page = await newPage(browser);
  await openLoggedIn(page, webUrl, `jobs/${encodeURIComponent(jobId)}`, env('TOKEN_FILE'), seen);
  await page.waitForSelector('#dag .card');
  seen.states = Object.fromEntries(await page.locator('#dag .card').evaluateAll(
      boxes => boxes.map(b => [b.dataset.card, b.dataset.state])));
  seen.legend = await page.locator('.legend .badge').allTextContents();
  await page.click(`#dag .card[data-card="${card}"]`);
  await page.waitForSelector('#card-facts dt');
  const terms = await page.locator('#card-facts dt').allTextContents();
  const values = await page.locator('#card-facts dd').allTextContents();
  seen.facts = Object.fromEntries(terms.map((t, i) => [t, values[i]]));
  console.log(JSON.stringify(seen));
} catch (e) {
  console.error(`cached_job_page.mjs: ${e.message}\nseen so far: ${JSON.stringify(seen)}`);
  process.exitCode = 1;
} finally {
  await browser.close();
  clearTimeout(overall);
}
