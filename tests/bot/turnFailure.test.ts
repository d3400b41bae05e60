/** A failure in one conversation is contained: the person gets a calm message, others carry on. */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createBotHarness, texts, buttons, type BotHarness } from '../support/botHarness.js';
import { createPseudonymizer, loadOrCreateSecret } from '../../bot/privacy/pseudonym.js';

describe('a conversation whose stored state is broken', () => {
  let harness: BotHarness;
  beforeEach(async () => {
    harness = await createBotHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  it('gets a calm error message and a fresh start, while another conversation is unaffected', async () => {
    const { messages } = harness.runtime.content.forLocale('en');
    const broken = harness.person({ userId: 'person-broken', conversationId: 'conversation-broken' });
    const healthy = harness.person({ userId: 'person-healthy', conversationId: 'conversation-healthy' });
    await broken.join();
    await healthy.join();

    // Corrupt the broken conversation's dialog stack, as a bad deploy or a manual edit could.
    const pseudonymize = createPseudonymizer(await loadOrCreateSecret(harness.dataDir));
    const key = pseudonymize('conversation', 'memory', 'conversation-broken');
    await harness.runtime.storage.write({ [key]: { dialogState: { dialogStack: [{ id: 'no-such-dialog', state: {} }] }, eTag: '*' } });

    const [brokenReplies, healthyReplies] = await Promise.all([broken.say('hello'), healthy.say(messages.consent.agree)]);
    expect(texts(brokenReplies)).toContain([messages.error.somethingWentWrong].flat()[0]);
    expect(texts(brokenReplies).join('\n')).not.toMatch(/no-such-dialog|at .*\.(ts|js):\d+/);
    expect(buttons(healthyReplies)).toContain(messages.menu.myPlan);

    const failures = harness.logLines().filter((line) => line.event === 'turn.failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]!.errorId).toMatch(/^[0-9a-f]{8}$/);

    // The next message starts the broken conversation afresh instead of failing again.
    const retry = await broken.say('hello');
    expect(buttons(retry)).toEqual([messages.consent.agree, messages.consent.decline]);
  });
});
