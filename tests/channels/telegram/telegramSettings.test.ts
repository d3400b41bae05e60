import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../../../bot/config.js';

const TOKEN = '123456789:AAE-a-token-that-looks-right_0123';

describe('Telegram settings', () => {
  it('has no Telegram channel without a token, and polls Telegram\'s own server with one', () => {
    expect(loadConfig({}).telegram).toEqual({ token: undefined, apiRoot: 'https://api.telegram.org', webhook: undefined });
    expect(loadConfig({ TELEGRAM_BOT_TOKEN: TOKEN }).telegram).toEqual({ token: TOKEN, apiRoot: 'https://api.telegram.org', webhook: undefined });
  });

  it('takes a webhook URL with its secret, mounted at the URL\'s path, and another Bot API server', () => {
    const { telegram } = loadConfig({
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_WEBHOOK_URL: 'https://chat.example.org/telegram/hook-1/',
      TELEGRAM_WEBHOOK_SECRET: 'sixteen-chars-ok',
      TELEGRAM_API_ROOT: 'http://127.0.0.1:8081/',
    });
    expect(telegram.webhook).toEqual({ url: 'https://chat.example.org/telegram/hook-1/', path: '/telegram/hook-1', secret: 'sixteen-chars-ok' });
    expect(telegram.apiRoot).toBe('http://127.0.0.1:8081');
  });

  it.each([
    ['TELEGRAM_BOT_TOKEN', { TELEGRAM_BOT_TOKEN: 'not a token but a secret-ish sentence' }],
    ['TELEGRAM_WEBHOOK_URL', { TELEGRAM_WEBHOOK_URL: 'http://bot.example.net/telegram', TELEGRAM_WEBHOOK_SECRET: 'sixteen-chars-ok' }],
    ['TELEGRAM_WEBHOOK_URL', { TELEGRAM_WEBHOOK_URL: 'https://bot.example.net/', TELEGRAM_WEBHOOK_SECRET: 'sixteen-chars-ok' }],
    ['TELEGRAM_WEBHOOK_URL', { TELEGRAM_WEBHOOK_URL: 'https://bot.example.net/:hook', TELEGRAM_WEBHOOK_SECRET: 'sixteen-chars-ok' }],
    ['TELEGRAM_WEBHOOK_SECRET', { TELEGRAM_WEBHOOK_URL: 'https://chat.example.org/telegram' }],
    ['TELEGRAM_WEBHOOK_SECRET', { TELEGRAM_WEBHOOK_URL: 'https://chat.example.org/telegram', TELEGRAM_WEBHOOK_SECRET: 'short' }],
    ['TELEGRAM_API_ROOT', { TELEGRAM_API_ROOT: 'ftp://api.example.org' }],
  ])('refuses a bad %s, naming the setting and never echoing its value', (name, env) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    let message = '';
    try {
      loadConfig(env);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(name);
    for (const value of Object.values(env)) expect(message).not.toContain(value);
  });
});
