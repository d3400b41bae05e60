/**
 * The counsellor console in a real browser (Debian's Chromium, driven by playwright-core):
 * sign in, go available, accept a waiting person, and read what they type as text, never as
 * markup, with no request leaving our own origin.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { describeInBrowser, launchChromium, signInToConsole } from '../support/chromium.js';
import { buttons, startRig, texts, type Rig } from '../support/liveChatRig.js';

describeInBrowser('counsellor console in Chromium', () => {
  let browser: Browser;
  let rig: Rig;

  beforeAll(async () => {
    browser = await launchChromium();
    rig = await startRig([{ name: 'Sam', role: 'counsellor' }]);
  });
  afterAll(async () => {
    await browser?.close();
    await rig?.close();
  });

  it('signs in, accepts a waiting person, shows a typed <script> as text, and sends a reply', async () => {
    const page = await browser.newPage();
    const foreign: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(rig.running.url) && !request.url().startsWith(rig.running.url.replace('http', 'ws'))) foreign.push(request.url());
    });
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });

    await signInToConsole(page, rig.running.url, 'Sam');
    await page.getByLabel('Available for new chats').check();
    await expect(page.locator('#queue-empty')).toBeDefined();

    const person = rig.person('conv-browser');
    await person.join();
    await person.say('Yes, continue');
    expect(buttons(await person.say('talk to a person'))).toContain('Yes, find me a counsellor');
    await person.say('Yes, find me a counsellor');

    const entry = page.locator('.queue-entry').first();
    await entry.getByRole('button', { name: 'Accept' }).click();
    await person.waitForText(/Sam, a counsellor, has joined/);

    const hostile = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';
    await person.post({ type: 'message', text: hostile });
    const shown = page.locator('.messages li').filter({ hasText: '<script>' });
    await shown.waitFor();
    expect(await shown.textContent()).toContain(hostile);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('.messages img').count()).toBe(0);

    // Focus went to the message box on accept; Enter sends.
    const box = page.getByLabel(/Message to the person/);
    await box.fill('I can see your message. How are you feeling right now?');
    await box.press('Enter');
    const reply = await person.waitForText(/How are you feeling right now/);
    expect(texts(reply)).toEqual(['Sam: I can see your message. How are you feeling right now?']);

    // Nothing of the chat is kept in the browser either.
    expect(await page.evaluate(() => [localStorage.length, sessionStorage.length])).toEqual([0, 0]);
    expect(foreign).toEqual([]);
    expect(dialogs).toEqual([]);
    await page.close();
  });
});
