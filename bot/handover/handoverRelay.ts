import type { TurnContext } from 'botbuilder';

/**
 * The seam for live chats with counsellors: when a conversation is connected to a person,
 * its messages go to them and the bot stays silent.
 */
export interface HandoverRelay {
  /** Delivers the turn to a counsellor if this conversation is in a live chat; true when it did. */
  relayIfConnected(context: TurnContext): Promise<boolean>;
}

/** Used until live handover lands: no conversation is ever connected. */
export const noHandover: HandoverRelay = Object.freeze({ relayIfConnected: async () => false });
