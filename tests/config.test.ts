import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../bot/config.js';

describe('settings', () => {
  it('runs with nothing set: web chat open to any site, no Direct Line secret', () => {
    const config = loadConfig({});
    expect(config.widget.allowedOrigins).toEqual(['*']);
    expect(config.directLine.secret).toBeUndefined();
    expect(config.directLine.tokenSeconds).toBe(1800);
    expect(config.publicUrl).toBeUndefined();
  });

  it('takes a list of embedding origins and a public URL without its trailing slash', () => {
    const config = loadConfig({ WIDGET_ALLOWED_ORIGINS: 'https://help.example.org  http://localhost:8080', PUBLIC_URL: 'https://chat.example.org/' });
    expect(config.widget.allowedOrigins).toEqual(['https://help.example.org', 'http://localhost:8080']);
    expect(config.publicUrl).toBe('https://chat.example.org');
  });

  it.each([
    ['WIDGET_ALLOWED_ORIGINS', "https://a.example; script-src 'unsafe-inline'"],
    ['WIDGET_ALLOWED_ORIGINS', 'help.example.org'],
    ['DIRECT_LINE_SECRET', 'too short'],
    ['PUBLIC_URL', 'ftp://example.org'],
    ['QUICK_EXIT_URL', 'javascript:alert(1)'],
    ['DIRECT_LINE_BUFFER_ACTIVITIES', '0'],
  ])('refuses %s=%s, naming the setting', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  describe('Redis', () => {
    const SECRET = 'a-pseudonym-secret-shared-by-every-instance';

    it('uses lowdb when REDIS_URL is not set, and Redis with the default key prefix when it is', () => {
      expect(loadConfig({}).redis).toEqual({ url: undefined, keyPrefix: 'waypoint:' });
      expect(loadConfig({ REDIS_URL: 'rediss://:pw@redis.internal:6380/2', PSEUDONYM_SECRET: SECRET }).redis).toEqual({
        url: 'rediss://:pw@redis.internal:6380/2',
        keyPrefix: 'waypoint:',
      });
    });

    it('needs PSEUDONYM_SECRET with REDIS_URL, since every instance must find the same people', () => {
      expect(() => loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow(/PSEUDONYM_SECRET: required when REDIS_URL is set/);
    });

    it.each([['http://127.0.0.1:6379'], ['redis:/no-host'], ['not a url'], ['ftp://user:hunter2@host']])('refuses REDIS_URL=%s without quoting it', (url) => {
      const error = (() => {
        try {
          loadConfig({ REDIS_URL: url, PSEUDONYM_SECRET: SECRET });
        } catch (err) {
          return err as Error;
        }
        throw new Error('accepted');
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toContain('REDIS_URL');
      expect(error.message).not.toContain(url);
      expect(error.message).not.toContain('hunter2');
    });

    it('refuses a key prefix with spaces or wildcards', () => {
      expect(() => loadConfig({ REDIS_KEY_PREFIX: 'way point*' })).toThrow('REDIS_KEY_PREFIX');
    });
  });
});
