/**
 * The product's core promise, tested end to end: unique strings typed at every kind of prompt
 * and with every interruption must not appear in any stored file, file name or log line.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createBotHarness, type BotHarness } from '../support/botHarness.js';
import { walkModuleTypingCanaries } from '../support/moduleWalk.js';
import { everyFile, expectNoMarkerInFiles } from '../support/storedFiles.js';
import type { MemoryAdapter } from '../../bot/channels/memory/memoryAdapter.js';

const canaries: string[] = [];
/** Several words, so the privacy guard treats it as identifying text. */
function canary(): string {
  const value = `canary ${randomBytes(6).toString('hex')} was typed here`;
  canaries.push(value);
  return value;
}

describe('canaries typed through every path', () => {
  let harness: BotHarness;
  let person: MemoryAdapter;
  let content: ReturnType<BotHarness['runtime']['content']['forLocale']>;

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
    for (const module of content.modules.values()) await walkModuleTypingCanaries(person, module.title, content.messages, canary);
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
    await expectNoMarkerInFiles(
      harness.dataDir,
      canaries.map((value) => value.split(' ')[1]!),
    );
  });

  it('finds no canary in any log line, and no failed turn or refused write', () => {
    const log = harness.logText();
    expect(log.length).toBeGreaterThan(0);
    for (const value of canaries) expect(log).not.toContain(value.split(' ')[1]!);
    const alarms = harness.logLines().filter((line) => line.event === 'turn.failed' || line.event === 'privacy.writeRefused');
    expect(alarms).toEqual([]);
  });
});
