/**
 * The words that work from anywhere ("menu", "talk to a person", "end chat"…) and their
 * Telegram-style slash forms, recognised in one place: the dialogs use it to interrupt, and the
 * live-chat relay uses it to tell "end chat" from a message meant for the counsellor.
 */
import type { CommandName, Content } from '../content/schema.js';
import { matchChoice } from './matchChoice.js';

const SLASH_COMMANDS: Readonly<Record<string, CommandName>> = {
  '/start': 'menu',
  '/menu': 'menu',
  '/help': 'help',
  '/exit': 'stop',
  '/stop': 'stop',
  '/forget': 'deleteData',
  '/human': 'human',
  '/plan': 'plan',
};

/**
 * True when the whole message is a Telegram-style slash command ("/plan", "/plan@waypoint_bot"):
 * Telegram's command menu sends it for a tap, like a button, so it carries nothing the person wrote.
 */
export function isSlashCommand(text: string): boolean {
  const match = /^(\/[a-z]+)(?:@\w+)?$/.exec(text.trim().toLowerCase());
  return match !== null && match[1] !== undefined && match[1] in SLASH_COMMANDS;
}

/** The command a whole message names, if it names one. */
export function commandIn(content: Content, text: string): CommandName | undefined {
  const typed = text.trim().toLowerCase();
  const slash = SLASH_COMMANDS[typed.split(/[\s@]/)[0] ?? ''];
  if (slash) return slash;
  const { commands } = content.messages;
  const candidates = (Object.keys(commands) as CommandName[]).map((name) => ({ code: name, phrases: commands[name] }));
  return matchChoice(typed, candidates) as CommandName | undefined;
}
