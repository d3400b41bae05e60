/**
 * A dialog that closes the conversation for now (stop, declined consent, data deleted) marks
 * the turn, so the root dialog ends instead of showing the menu again.
 */
import type { TurnContext } from 'botbuilder';

const ENDED = Symbol('waypoint.conversationEnded');

export function endConversationForNow(context: TurnContext): void {
  context.turnState.set(ENDED, true);
}

export function conversationEndedThisTurn(context: TurnContext): boolean {
  return context.turnState.get(ENDED) === true;
}
