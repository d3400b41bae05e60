/**
 * The product's core promise, tested end to end: unique strings typed at every kind of prompt
 * and with every interruption must not appear in any stored file, file name or log line.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Activity } from 'botbuilder';
import { buttons, createBotHarness, texts, type BotHarness } from '../support/botHarness.js';
import type { MemoryAdapter } from '../../bot/channels/memory/memoryAdapter.js';

const canaries: string[] = [];
/** Several words, so the privacy guard treats it as identifying text. */
function canary(): string {
  const value = `canary ${randomBytes(6).toString('hex')} was typed here`;
  canaries.push(value);
  return value;
}

async function everyFile(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

describe('canaries typed through every path', () => {
  let harness: BotHarness;
  let person: MemoryAdapter;
  let content: ReturnType<BotHarness['runtime']['content']['forLocale']>;

  async function press(replies: Activity[], label: string): Promise<Activity[]> {
    expect(buttons(replies)).toContain(label);
    return person.say(label);
  }

  /** Walks one module to its end, typing a canary before answering each question. */
  async function walkModule(title: string): Promise<void> {
    const { messages } = content;
    let replies = await person.say(title);
    const asked = new Set<string>();
    for (let turn = 0; turn < 80; turn += 1) {
      const offered = buttons(replies);
      if (offered.includes(messages.end.menu)) {
        await person.say(canary());
        await press(await person.say(messages.menu.help), messages.end.menu);
        return;
      }
      // Free text at a question that expects a button: not understood, nothing stored.
      replies = await person.say(canary());
      const again = buttons(replies);
      if (again.includes(messages.reflect.skip)) {
        replies = await person.say(canary());
      } else if (again.includes(messages.pick.done)) {
        await person.say(again[0]!);
        replies = await person.say(messages.pick.done);
      } else if (again.length > 0) {
        // The first option usually goes on; on a question seen before it loops back, so take the last.
        const question = texts(replies).at(-1) ?? '';
        replies = await person.say(asked.has(question) ? again.at(-1)! : again[0]!);
        asked.add(question);
      }
    }
    throw new Error(`module "${title}" did not reach its end in 80 turns: ${texts(replies).join(' | ')}`);
  }

  /**
   * Every safety path, with canaries inside the crisis messages themselves (what the screen
   * reads) and typed at each of the safety dialogs' questions: the screen and the dialogs may
   * keep a category and a level, never the words.
   */
  async function walkSafetyDialogs(): Promise<void> {
    const { safety } = content.messages;
    const paths: { says: string; answers: string[] }[] = [
      { says: `${canary()}, i'm going to kill myself tonight`, answers: [canary(), 'uk', canary(), safety.safeNow] },
      { says: `im meeting a 13 year old girl from discord tonight ${canary()}`, answers: [canary(), safety.childSafety.steppedAway] },
      { says: `sometimes i wish i could just not wake up, ${canary()}`, answers: [canary(), safety.followUp.yes, canary(), safety.followUp.no, safety.followUp.no, safety.followUp.no, canary(), safety.carryOn] },
      { says: `i cant cope anymore, the urges are too strong. ${canary()}`, answers: [canary(), safety.carryOn] },
      { says: `can i talk to a real person please ${canary()}`, answers: [canary()] },
      { says: `${canary()} i would never hurt a child`, answers: [] },
    ];
    for (const path of paths) {
      await person.say(path.says);
      for (const answer of path.answers) await person.say(answer);
    }
  }

  beforeAll(async () => {
    harness = await createBotHarness();
    content = harness.runtime.content.forLocale('en');
    person = harness.person({ userId: `user ${canary()}`, conversationId: `conversation ${canary()}` });
    await person.join();
    await person.say(canary());
    await person.say(content.messages.consent.agree);
    await person.say(canary());
    for (const module of content.modules.values()) await walkModule(module.title);
    // Interruptions, and free text around them.
    for (const command of ['help', 'my plan', 'talk to a person', 'menu']) {
      await person.say(command);
      await person.say(canary());
    }
    await walkSafetyDialogs();
    await person.turn({ type: 'message', text: canary(), attachments: [{ contentType: 'image/png', name: canary(), contentUrl: 'http://127.0.0.1:9/x.png', content: { caption: canary() } }] });
    await person.say('delete my data');
    await person.say(canary());
    await person.say(content.messages.deleteData.cancel);
    await person.say('stop');
    await person.say(canary());
    await harness.runtime.close();
  }, 60_000);

  afterAll(async () => {
    await harness.close();
  });

  it('walked every module to its end, typing canaries at its questions', () => {
    expect(canaries.length).toBeGreaterThan(40);
  });

  it('reached every safety dialog, so the canaries went through the risk screen and its dialogs', () => {
    const escalations = harness.logLines().filter((line) => line.event === 'risk.escalate');
    expect(new Set(escalations.map((line) => line.category))).toEqual(new Set(['suicide', 'child_at_risk', 'human', 'distress']));
  });

  it('stored something, so the search below is not vacuous', async () => {
    const files = await everyFile(harness.dataDir);
    expect(files.some((f) => f.endsWith('.json'))).toBe(true);
  });

  it('finds no canary in any stored file or file name', async () => {
    for (const file of await everyFile(harness.dataDir)) {
      const text = (await readFile(file, 'utf8')).toLowerCase();
      for (const value of canaries) {
        const secret = value.split(' ')[1]!;
        expect(file).not.toContain(secret);
        expect(text).not.toContain(secret);
      }
    }
  });

  it('finds no canary in any log line, and no failed turn or refused write', () => {
    const log = harness.logText();
    expect(log.length).toBeGreaterThan(0);
    for (const value of canaries) expect(log).not.toContain(value.split(' ')[1]!);
    const alarms = harness.logLines().filter((line) => line.event === 'turn.failed' || line.event === 'privacy.writeRefused');
    expect(alarms).toEqual([]);
  });
});
