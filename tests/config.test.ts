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
});
