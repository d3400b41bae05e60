/**
 * The command menu Telegram shows next to the message field (/start, /menu…), in each content
 * language: the descriptions are content (messages.yaml, `telegram.commands`), shown on the
 * person's screen, so clinicians choose their words like any other.
 */
import type { Api } from 'grammy';
import type { LanguageCode } from 'grammy/types';
import type { ContentLibrary } from '../../content/schema.js';

/** Each is also understood as typed words (bot/language/commands.ts). */
const COMMANDS = ['start', 'menu', 'help', 'human', 'forget', 'exit'] as const;

export async function registerCommands(api: Api, content: ContentLibrary): Promise<void> {
  const defaultLanguage = languageOf(content.defaultLocale);
  const done = new Set<string>([defaultLanguage]);
  for (const [locale, localeContent] of content.locales) {
    const commands = COMMANDS.map((command) => ({ command, description: localeContent.messages.telegram.commands[command] }));
    // The default locale's menu is everyone's, unless their app's language has its own.
    if (locale === content.defaultLocale) {
      await api.setMyCommands(commands);
      continue;
    }
    // Telegram knows languages (two letters), not regions: the first locale of a language wins.
    const language = languageOf(locale);
    if (language.length !== 2 || done.has(language)) continue;
    done.add(language);
    await api.setMyCommands(commands, { language_code: language as LanguageCode });
  }
}

function languageOf(locale: string): string {
  return locale.split('-')[0]!.toLowerCase();
}
