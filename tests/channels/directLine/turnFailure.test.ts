/**
 * One conversation's turn failing must stay that conversation's problem: the person gets a calm
 * 500 with an error id (staff find it in the log), nobody gets a stack trace, and every other
 * conversation carries on as if nothing happened.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ActivityTypes, type TurnContext } from 'botbuilder';
import { HTTP_ERRORS } from '../../../bot/httpErrors.js';
import { errorCode, openStream, startBareDirectLine, type Answer, type DirectLineServer } from '../../support/directLineRig.js';

/** Conversations whose next message turn throws, and whose welcome turn throws. */
const failingTurns = new Set<string>();
const failingWelcomes = new Set<string>();

/** Echoes messages; throws (with what an unguarded error would carry: a path and the typed text) where told to. */
const bot = {
  async run(context: TurnContext) {
    const { type, conversation, text } = context.activity;
    if (type === ActivityTypes.ConversationUpdate && failingWelcomes.has(conversation.id)) throw new Error('welcome exploded at /srv/waypoint/bot/welcome.ts:12');
    if (type !== ActivityTypes.Message) return;
    if (failingTurns.has(conversation.id)) throw new TypeError(`turn exploded at /srv/waypoint/bot/turn.ts:34 while reading "${text}"`);
    await context.sendActivity(`echo: ${text}`);
  },
};

let server: DirectLineServer;
beforeAll(async () => {
  server = await startBareDirectLine({ bot });
});
afterAll(() => server.close());

function expectCalmInternalError(answer: Answer): string {
  expect(answer.status).toBe(500);
  const { error } = answer.json as { error: { code: string; message: string; errorId: string } };
  expect(error).toEqual({ code: 'INTERNAL', message: HTTP_ERRORS.INTERNAL.message, errorId: expect.stringMatching(/^[0-9a-f]{8}$/) });
  expect(answer.text).not.toMatch(/exploded|\.ts:\d+|\/srv\/|Error|\bat\s/);
  return error.errorId;
}

describe('a turn that throws in one conversation', () => {
  it("fails only that conversation's post, with an error id and no stack, while another carries on", async () => {
    const failing = await server.startConversation();
    const healthy = await server.startConversation();
    const failingStream = await openStream(failing.streamUrl);
    failingTurns.add(failing.conversationId);

    const [failed, answered] = await Promise.all([server.say(failing, 'typed-canary-41d2'), server.say(healthy, 'still here')]);
    const errorId = expectCalmInternalError(failed);
    expect(answered.status).toBe(200);
    await server.activitiesUntil(healthy, (set) => set.activities.some((activity) => activity.text === 'echo: still here'));
    expect(server.logText()).toContain(errorId);
    expect(server.logText()).toContain('directLine.turnFailed');
    expect(server.logText()).not.toContain('typed-canary-41d2');

    // The failing conversation itself recovers once its turns stop throwing, on the stream it kept open.
    failingTurns.delete(failing.conversationId);
    expect((await server.say(failing, 'again')).status).toBe(200);
    await failingStream.waitFor((activity) => activity.text === 'echo: again');
    failingStream.socket.close();
  });

  it('keeps turns of other conversations running while one fails repeatedly', async () => {
    const failing = await server.startConversation();
    const others = await Promise.all([1, 2, 3].map(() => server.startConversation()));
    failingTurns.add(failing.conversationId);
    try {
      const answers = await Promise.all([
        ...Array.from({ length: 5 }, (_, i) => server.say(failing, `boom ${i}`)),
        ...others.map((other, i) => server.say(other, `hello ${i}`)),
      ]);
      answers.slice(0, 5).forEach(expectCalmInternalError);
      expect(answers.slice(5).map((answer) => answer.status)).toEqual([200, 200, 200]);
      for (const [i, other] of others.entries()) {
        await server.activitiesUntil(other, (set) => set.activities.some((activity) => activity.text === `echo: hello ${i}`));
      }
      // Failed turns were not left counted as pending, which would lock the conversation out.
      expect(server.channel.conversations.get(failing.conversationId)!.pendingTurns).toBe(0);
    } finally {
      failingTurns.delete(failing.conversationId);
    }
  });

  it('answers a welcome turn that throws with a 500 and an error id, and other conversations still start', async () => {
    const { conversationId, token } = await server.widgetToken();
    failingWelcomes.add(conversationId);
    const failed = await server.call('POST', '/v3/directline/conversations', { token });
    expectCalmInternalError(failed);
    expect(errorCode(failed)).toBe('INTERNAL');

    const healthy = await server.startConversation();
    expect((await server.say(healthy, 'hi')).status).toBe(200);
    await server.activitiesUntil(healthy, (set) => set.activities.some((activity) => activity.text === 'echo: hi'));
  });
});
