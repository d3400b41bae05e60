/** "Delete my data" tells the channel too, so a channel that keeps the chat on the person's phone (Telegram) can delete it. */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createBotHarness, texts, type BotHarness } from '../support/botHarness.js';
import { DATA_ERASED_EVENT } from '../../bot/channels/channelEvents.js';

describe('the data-erased event', () => {
  let harness: BotHarness;
  beforeEach(async () => {
    harness = await createBotHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  it('goes to the channel once the data is erased, before the bot says it is done', async () => {
    const { messages } = harness.runtime.content.forLocale('en');
    const person = harness.person();
    await person.join();
    await person.say(messages.consent.agree);
    const asked = await person.say('delete my data');
    expect(asked.filter((a) => a.type === 'event')).toEqual([]);

    const erased = await person.say(messages.deleteData.confirm);
    const event = erased.findIndex((a) => a.type === 'event' && a.name === DATA_ERASED_EVENT);
    const done = erased.findIndex((a) => a.type === 'message' && a.text === [messages.deleteData.done].flat()[0]);
    expect(event).toBeGreaterThanOrEqual(0);
    expect(event).toBeLessThan(done);
    // A name only: nothing about the person rides on it.
    expect(erased[event]!.value).toBeUndefined();
    expect(erased[event]!.text).toBeUndefined();
  });

  it('is not sent when the person keeps their data', async () => {
    const { messages } = harness.runtime.content.forLocale('en');
    const person = harness.person();
    await person.join();
    await person.say('delete my data');
    const kept = await person.say(messages.deleteData.cancel);
    expect(texts(kept)).toContain(messages.deleteData.cancelled);
    expect(kept.filter((a) => a.type === 'event')).toEqual([]);
  });
});
