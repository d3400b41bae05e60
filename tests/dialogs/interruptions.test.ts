import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { buttons, createBotHarness, texts, type BotHarness } from '../support/botHarness.js';

describe('interruptions', () => {
  let harness: BotHarness;
  beforeEach(async () => {
    harness = await createBotHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  it('shows help inside a module and then asks the same question again', async () => {
    const person = harness.person();
    await person.join();
    await person.say('Yes, continue');
    const moduleStart = await person.say('Online and offline relationships');
    const question = buttons(moduleStart);
    const afterHelp = await person.say('help');
    expect(texts(afterHelp).join('\n')).toContain('menu');
    expect(buttons(afterHelp)).toEqual(question);
  });
});
