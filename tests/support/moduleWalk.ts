/**
 * Walking a module to its end while typing canaries: the privacy tests use it to reach every
 * question of every module with free text, whatever channel the person is on.
 */
import { expect } from '@jest/globals';
import type { Activity } from 'botbuilder';
import type { Messages } from '../../bot/content/schema.js';
import { buttons, texts } from './botHarness.js';

/** Anyone who can say something and hear the bot's replies to it. */
export interface Speaker {
  say(text: string): Promise<Activity[]>;
}

const MAX_TURNS = 80;

/** Walks the module titled `title` to its end, typing `canary()` before answering each question. */
export async function walkModuleTypingCanaries(person: Speaker, title: string, messages: Messages, canary: () => string): Promise<void> {
  let replies = await person.say(title);
  const asked = new Set<string>();
  for (let turn = 0; turn < MAX_TURNS; turn += 1) {
    if (buttons(replies).includes(messages.end.menu)) {
      await person.say(canary());
      expect(buttons(await person.say(messages.menu.help))).toContain(messages.end.menu);
      await person.say(messages.end.menu);
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
  throw new Error(`module "${title}" did not reach its end in ${MAX_TURNS} turns: ${texts(replies).join(' | ')}`);
}
