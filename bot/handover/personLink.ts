/**
 * Reaching a person outside their own turn, on the channel they came from: captured from one
 * of their turns (adapter and conversation reference), held in memory only for as long as they
 * wait or chat, and dropped with the queue entry or chat that holds it.
 */
import { ActivityTypes, CloudAdapterBase, MessageFactory, TurnContext, type ConversationReference } from 'botbuilder';
import type { PersonEvent, PersonLink } from './handoverDesk.js';

export type CounsellorTextFormat = (counsellorName: string, text: string) => string;
export type PersonEventRunner = (context: TurnContext, event: PersonEvent) => Promise<void>;

export function createPersonLink(context: TurnContext, format: CounsellorTextFormat, runEvent: PersonEventRunner): PersonLink {
  const { adapter } = context;
  const reference: Partial<ConversationReference> = TurnContext.getConversationReference(context.activity);
  const locale = context.activity.locale;
  // CloudAdapter continues a conversation with the identity its turns ran under; other adapters need none.
  const identity = context.turnState.get(adapter.BotIdentityKey);
  const proactively = async (logic: (turn: TurnContext) => Promise<void>): Promise<void> => {
    const withLocale = async (turn: TurnContext) => {
      turn.activity.locale = locale;
      await logic(turn);
    };
    if (adapter instanceof CloudAdapterBase && identity) await adapter.continueConversationAsync(identity, reference, withLocale);
    else await adapter.continueConversation(reference, withLocale);
  };
  return {
    sendText: (counsellorName, text) =>
      proactively(async (turn) => {
        await turn.sendActivity(MessageFactory.text(format(counsellorName, text)));
      }),
    sendTyping: () =>
      proactively(async (turn) => {
        await turn.sendActivity({ type: ActivityTypes.Typing });
      }),
    notify: (event: PersonEvent) => proactively((turn) => runEvent(turn, event)),
  };
}
