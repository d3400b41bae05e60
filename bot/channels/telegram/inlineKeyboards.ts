/**
 * Buttons both ways. The bot's suggested actions become an inline keyboard under the message;
 * a press comes back as the words of the button, exactly as if the person had typed them.
 * The button's value travels in its callback data when it fits Telegram's 64 bytes (so buttons
 * still work after a restart); a longer one is sent as its position and read back from the
 * keyboard Telegram returns with the press.
 */
import type { CardAction } from 'botbuilder';
import type { InlineKeyboardButton, InlineKeyboardMarkup } from 'grammy/types';

const MAX_CALLBACK_BYTES = 64;
const VALUE = 'v:';
const POSITION = 'i:';
/** Labels this short (numbers of a scale, "Yes") share a row; longer ones get a row each, readable on a phone. */
const SHORT_LABEL = 4;
const SHORT_PER_ROW = 6;

/** The keyboard for an activity's suggested actions; undefined when there are none. */
export function inlineKeyboard(actions: readonly CardAction[] | undefined): InlineKeyboardMarkup | undefined {
  const buttons = (actions ?? [])
    .map((action) => ({ action, title: String(action.title ?? action.value ?? '').trim() }))
    .filter(({ title }) => title !== '')
    // The position is counted in the keyboard as sent, which is what comes back with a press.
    .map(({ action, title }, position) => buttonFor(action, title, position));
  if (buttons.length === 0) return undefined;
  const rows: InlineKeyboardButton[][] = [];
  for (const button of buttons) {
    const last = rows.at(-1);
    const short = button.text.length <= SHORT_LABEL;
    if (short && last && last.length < SHORT_PER_ROW && last.every((b) => b.text.length <= SHORT_LABEL)) last.push(button);
    else rows.push([button]);
  }
  return { inline_keyboard: rows };
}

/**
 * The words a pressed button stands for; undefined when the data names none of our buttons (a
 * forged or ancient press). `keyboard` is the one Telegram sent back with the press.
 */
export function choiceFromCallback(data: string | undefined, keyboard: InlineKeyboardMarkup | undefined): string | undefined {
  if (typeof data !== 'string') return undefined;
  if (data.startsWith(VALUE)) return data.slice(VALUE.length);
  if (data.startsWith(POSITION)) {
    const position = Number(data.slice(POSITION.length));
    const pressed = keyboard?.inline_keyboard?.flat()[position];
    return pressed && 'callback_data' in pressed && pressed.callback_data === data ? pressed.text : undefined;
  }
  return undefined;
}

function buttonFor(action: CardAction, title: string, position: number): InlineKeyboardButton {
  if (action.type === 'openUrl' && typeof action.value === 'string' && /^https:\/\//.test(action.value)) return { text: title, url: action.value };
  const value = typeof action.value === 'string' && action.value.trim() !== '' ? action.value : title;
  const data = `${VALUE}${value}`;
  // Read back by position, the press becomes the button's words: our buttons' values are their words.
  return { text: title, callback_data: Buffer.byteLength(data, 'utf8') <= MAX_CALLBACK_BYTES ? data : `${POSITION}${position}` };
}
