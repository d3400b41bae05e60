import { describe, expect, it } from '@jest/globals';
import { TELEGRAM_TEXT_LIMIT, toTelegramHtml } from '../../../bot/channels/telegram/telegramHtml.js';
import { parseTelegramHtml } from '../../support/fakeTelegramApi.js';

/** What the person sees: the HTML as Telegram parses it (the fake refuses what Telegram refuses). */
function shown(html: string): string {
  const parsed = parseTelegramHtml(html);
  if (typeof parsed !== 'string') throw new Error(`Telegram would refuse ${JSON.stringify(html)}: ${parsed.problem}`);
  return parsed;
}

describe('the bot\'s markdown as Telegram HTML', () => {
  it.each([
    ['a < b & c > d', 'a &lt; b &amp; c &gt; d'],
    ['<script>alert("x")</script>', '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'],
    ['AT&T and 5 < 6', 'AT&amp;T and 5 &lt; 6'],
    ['&amp; stays as typed', '&amp;amp; stays as typed'],
  ])('escapes %j', (text, html) => {
    expect(toTelegramHtml(text)).toEqual([html]);
    expect(shown(html)).toBe(text);
  });

  it.each([
    ['**Stop It Now** is free', '<b>Stop It Now</b> is free'],
    ['It is _not_ your fault', 'It is <i>not</i> your fault'],
    ['It is *not* your fault', 'It is <i>not</i> your fault'],
    ['**a _very_ big** step', '<b>a </b><b><i>very</i></b><b> big</b> step'],
    ['See [Stop It Now](https://www.stopitnow.org.uk/?a=1&b=2) today', 'See <a href="https://www.stopitnow.org.uk/?a=1&amp;b=2">Stop It Now</a> today'],
  ])('formats %j', (text, html) => {
    expect(toTelegramHtml(text)).toEqual([html]);
  });

  it.each([
    'snake_case_names and file_name.txt stay as they are',
    'https://example.org/some_path_here/ is a bare link',
    '2 * 3 * 4 = 24, and 5*3 too',
    'a lone _ underscore and a lone * star',
    '** not bold ** and _ not italic _',
    '[a link](javascript:alert(1)) is not a link',
  ])('leaves %j as plain text', (text) => {
    const [html] = toTelegramHtml(text);
    expect(html).not.toMatch(/<[bia]/);
    expect(shown(html!)).toBe(text);
  });

  it('shows a markdown list as bullets', () => {
    expect(toTelegramHtml('- "menu" for the topics\n- "stop" to leave\n* "help"')).toEqual(['• "menu" for the topics\n• "stop" to leave\n• "help"'.replace(/"/g, '&quot;')]);
  });

  it('only escapes plain text', () => {
    expect(toTelegramHtml('**not bold** <b>', 'plain')).toEqual(['**not bold** &lt;b&gt;']);
  });

  it('cuts a long text at paragraph breaks into messages Telegram accepts', () => {
    const paragraph = `${'Words & more words. '.repeat(100).trim()}`;
    const text = [paragraph, paragraph, paragraph].join('\n\n');
    const pieces = toTelegramHtml(text);
    expect(pieces.length).toBe(2);
    for (const piece of pieces) expect(shown(piece).length).toBeLessThanOrEqual(TELEGRAM_TEXT_LIMIT);
    expect(pieces.map(shown).join('\n\n')).toBe(text);
  });

  it('cuts a long text without breaks anywhere, but never inside an emoji or a tag', () => {
    const text = `**${'😀'.repeat(3000)}**`;
    const pieces = toTelegramHtml(text);
    expect(pieces.length).toBe(2);
    for (const piece of pieces) {
      expect(piece).toMatch(/^<b>.*<\/b>$/su);
      expect(shown(piece).length).toBeLessThanOrEqual(TELEGRAM_TEXT_LIMIT);
      expect(shown(piece)).not.toMatch(/[\uD800-\uDBFF]$/);
    }
    expect(pieces.map(shown).join('')).toBe('😀'.repeat(3000));
  });

  it('cuts at a word break in the last half, so no word is split', () => {
    const words = Array.from({ length: 1000 }, (_, i) => `word${i}`).join(' ');
    const pieces = toTelegramHtml(words, 'plain', 100);
    expect(pieces.every((piece) => piece.length <= 100)).toBe(true);
    expect(pieces.join(' ')).toBe(words);
  });
});
