/**
 * What a person hears while the shared store cannot be reached. It is not their conversation
 * that is broken, so unlike other failures nothing is reset: they are told what does not work
 * (saving, live chat), that it will be back, and where to find a person now.
 */
import type { TurnContext } from 'botbuilder';
import type { Content } from './content/schema.js';
import type { Helplines } from './content/helplines.js';
import { bubbles, say } from '../dialogs/replies.js';
import { contactBubbles } from '../dialogs/safety/contacts.js';

/** Call when a turn failed with STORAGE_UNAVAILABLE. */
export async function replyDuringStorageOutage(context: TurnContext, content: Content, helplines: Helplines): Promise<void> {
  const words = content.messages.storageOutage;
  // The dialogs answered (from the state this instance last saw); only saving failed.
  if (context.responded) return say(context, words.notSaved);
  // Without state the country is unknown: the international contacts and the local emergency advice.
  const contacts = contactBubbles(content, helplines.forCountry(undefined), ['crisis', 'prevention']);
  await say(context, [...bubbles(words.unavailable), ...contacts]);
}
