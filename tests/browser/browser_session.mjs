// What the browser tests share: a headless Chromium (Debian's) with an overall deadline, and
// logging in to the web view with the cluster's token on the way to a page.
import {chromium} from 'playwright-core';
import fs from 'node:fs';

export const STEP_MS = 20000;

export function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

// A hung browser must not outlive the CTest timeout: the whole run has a deadline too.
export function deadline(script, ms) {
  return setTimeout(() => {
    console.error(`${script}: overall deadline passed`);
    process.exit(1);
  }, ms);
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    // Root in CI: Chromium's sandbox needs user namespaces that containers often lack.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    timeout: STEP_MS,
  });
}

// Opens `path` (e.g. "jobs/ID"), is sent to the login form, logs in with the token in
// `tokenFile`, and lands on `path`. Records the login's steps in `seen`.
export async function openLoggedIn(page, webUrl, path, tokenFile, seen) {
  const token = fs.readFileSync(tokenFile, 'utf8').trim();
  const first = await page.goto(`${webUrl}${path}`);
  seen.unauthenticated_status = first.status();
  seen.login_form = await page.locator('form#login').count();
  await page.fill('#token', token);
  await Promise.all([page.waitForURL(`**/${path}`), page.click('form#login button[type=submit]')]);
  seen.url_has_token = page.url().includes(token);
}

// A page of the size the web view is made for (1280x800), every step bounded by STEP_MS.
export async function newPage(browser) {
  const page = await browser.newPage({viewport: {width: 1280, height: 800}});
  page.setDefaultTimeout(STEP_MS);
  return page;
}
