/**
 * The browser tests' Chromium (Debian's, driven by playwright-core): skipped where it is not
 * installed, except in CI, and launched the same way by every browser test.
 */
import { describe } from '@jest/globals';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PASSWORD } from './liveChatRig.js';

const CHROMIUM = '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM);
// CI installs Chromium (.ci/run) and sets this, so a missing browser there is a failure, not a skip.
if (!haveBrowser && process.env.WAYPOINT_REQUIRE_BROWSER) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
if (!haveBrowser) process.stdout.write(`Browser tests skipped: ${CHROMIUM} not found (apt-get install -y chromium).\n`);

export const describeInBrowser = haveBrowser ? describe : describe.skip;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Signs `name` in to the counsellor console at `url` and waits until the console says who is signed in. */
export async function signInToConsole(page: Page, url: string, name: string, timeoutMs = 5000): Promise<void> {
  await page.goto(`${url}/console`);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#whoami').filter({ hasText: name }).waitFor({ timeout: timeoutMs });
}
