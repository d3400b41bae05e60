/** Stored progress does not outlive its use: the running bot's sweep deletes what has been idle too long. */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buttons, createBotHarness, type BotHarness } from '../support/botHarness.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The files that hold people's state; the daily aggregate counts (no person in them) outlive retention. */
async function stateFiles(dataDir: string): Promise<string[]> {
  const entries = await readdir(path.join(dataDir, 'state'), { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile() && e.name.endsWith('.json')).map((e) => path.join(e.parentPath, e.name));
  const keys = await Promise.all(files.map(async (file) => (JSON.parse(await readFile(file, 'utf8')) as { key: string }).key));
  return files.filter((_, i) => !keys[i]!.startsWith('aggregates/'));
}

/** Makes a stored record look last written `days` ago, as if the person had stayed away. */
async function age(file: string, days: number): Promise<void> {
  const record = JSON.parse(await readFile(file, 'utf8')) as { savedAt: string };
  record.savedAt = new Date(Date.now() - days * DAY_MS).toISOString();
  await writeFile(file, JSON.stringify(record));
}

describe('retention in the running bot', () => {
  let harness: BotHarness;
  beforeEach(async () => {
    harness = await createBotHarness({ RETENTION_DAYS: '30' });
  });
  afterEach(async () => {
    await harness.close();
  });

  it('deletes a person idle past RETENTION_DAYS and keeps one who was here recently', async () => {
    const { messages } = harness.runtime.content.forLocale('en');
    const away = harness.person({ userId: 'away', conversationId: 'away-chat' });
    await away.join();
    await away.say(messages.consent.agree);
    const awayFiles = await stateFiles(harness.dataDir);
    expect(awayFiles).toHaveLength(2);
    for (const file of awayFiles) await age(file, 31);

    const recent = harness.person({ userId: 'recent', conversationId: 'recent-chat' });
    await recent.join();
    await recent.say(messages.consent.agree);

    // The bot's own timer may sweep first; either way only the idle person's two records go.
    await harness.runtime.retention.sweepNow();
    expect(await stateFiles(harness.dataDir)).toHaveLength(2);

    // The person who stayed away is a stranger again; the recent one is remembered.
    expect(buttons(await harness.person({ userId: 'away', conversationId: 'away-again' }).join())).toEqual([
      messages.consent.agree,
      messages.consent.decline,
    ]);
    expect(buttons(await harness.person({ userId: 'recent', conversationId: 'recent-again' }).join())).toContain(messages.menu.myPlan);
  });
});
