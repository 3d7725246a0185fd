// Drives headless Chromium through the cluster page and a running job's actions, as a person
// would: logs in on the cluster page and reads its workers (and the stack each runs), opens the
// job's page, checks that a cancel without the session's CSRF token (or with a wrong one) is
// refused and changes nothing, cancels the job with the page's button, downloads its result and
// trace, and saves screenshots of the three pages. Prints what it saw as one JSON line; exits 1 on
// any error or timeout. Every wait has a deadline.
//
// Environment: WEB_URL, JOB_ID, TOKEN_FILE, SHOTS (a directory for the .png files).
import {deadline, env, launch, newPage, openLoggedIn} from './browser_session.mjs';

const webUrl = env('WEB_URL'), jobId = env('JOB_ID'), shots = env('SHOTS');
const overall = deadline('actions_page.mjs', 100000);

const browser = await launch();
const seen = {};
let page;
try {
  page = await newPage(browser);

  await openLoggedIn(page, webUrl, 'cluster', env('TOKEN_FILE'), seen);
  await page.waitForFunction(
      () => document.querySelectorAll('#workers tbody tr td.placed a').length > 0);
  seen.workers = await page.locator('#workers tbody tr').evaluateAll(
      rows => rows.map(r => r.dataset.worker).sort());
  seen.placed = await page.locator('#workers td.placed a').allTextContents();
  seen.cluster_columns = await page.locator('#workers thead th').allTextContents();
  await page.screenshot({path: `${shots}/cluster-page.png`});

  await page.goto(`${webUrl}jobs/${encodeURIComponent(jobId)}`);
  await page.waitForSelector('#cancel-job:not([hidden])');
  const post = headers => page.evaluate(async ({id, headers}) => {
    const r = await fetch(`/api/jobs/${encodeURIComponent(id)}/cancel`,
                          {method: 'POST', credentials: 'same-origin', headers});
    return r.status;
  }, {id: jobId, headers});
  seen.cancel_without_csrf = await post({});
  seen.cancel_with_wrong_csrf = await post({'X-CSRF-Token': '0'.repeat(64)});
  seen.cancel_as_get = await page.evaluate(async id => (await fetch(
      `/api/jobs/${encodeURIComponent(id)}/cancel`, {credentials: 'same-origin'})).status, jobId);
  seen.state_after_refused = await page.evaluate(async id => (await (await fetch(
      `/api/jobs/${encodeURIComponent(id)}`, {credentials: 'same-origin'})).json()).state, jobId);
  seen.result_while_running = await page.evaluate(async id => (await fetch(
      `/api/jobs/${encodeURIComponent(id)}/result`, {credentials: 'same-origin'})).status, jobId);
  seen.command = await page.textContent('#job-command');

  page.once('dialog', dialog => dialog.accept());
  await page.click('#cancel-job');
  await page.waitForFunction(() => document.getElementById('job-state').textContent === 'cancelled');
  seen.job_state = await page.textContent('#job-state');
  seen.cancel_hidden = await page.locator('#cancel-job').isHidden();
  const download = async (selector) => {
    const [file] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
    const chunks = [];
    for await (const chunk of await file.createReadStream()) chunks.push(chunk);
    return {name: file.suggestedFilename(), body: Buffer.concat(chunks).toString('utf8')};
  };
  const result = await download('#download-result');
  seen.result_file = result.name;
  seen.result_state = JSON.parse(result.body).state;
  const trace = await download('#download-trace');
  seen.trace_file = trace.name;
  seen.trace_events = (JSON.parse(trace.body).traceEvents || []).length;
  await page.screenshot({path: `${shots}/cancelled-job-page.png`});

  await page.goto(webUrl);
  await page.waitForSelector(`#jobs tr[data-job="${jobId}"]`);
  seen.listed_state = await page.textContent(`#jobs tr[data-job="${jobId}"] .badge`);
  await page.screenshot({path: `${shots}/job-list.png`});
  console.log(JSON.stringify(seen));
} catch (e) {
  console.error(`actions_page.mjs: ${e.message}\nseen so far: ${JSON.stringify(seen)}`);
  if (page) await page.screenshot({path: `${shots}/actions-failure.png`}).catch(() => {});
  process.exitCode = 1;
} finally {
  await browser.close();
  clearTimeout(overall);
}
