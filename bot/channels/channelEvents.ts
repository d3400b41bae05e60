/**
 * Events the bot sends to its channel rather than to the person: each channel acts on the ones
 * it has a use for and drops the rest (Web Chat ignores event names it does not know).
 */

/**
 * The person's stored data has just been erased ("delete my data", /forget). A channel that
 * keeps a copy of the chat on the person's device (Telegram) deletes what it still can; it is
 * never shown to the person.
 */
export const DATA_ERASED_EVENT = 'waypoint.dataErased';
