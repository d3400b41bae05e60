import type { TurnContext } from 'botbuilder';

/** What every channel hands its turns to: the bot, and nothing else of it. */
export interface TurnRunner {
  run(context: TurnContext): Promise<void>;
}
