/**
 * The bot's text -> Telegram HTML. Content and counsellors write the small markdown Web Chat
 * renders (`**bold**`, `_italic_` or `*italic*`, `[words](https://…)`, `- ` lists); Telegram
 * wants HTML in which every `<`, `>` and `&` of the text is escaped, or it refuses the message.
 * Text is cut into messages of at most Telegram's 4096 characters, at a paragraph, line or word
 * break where there is one, and every message is valid HTML on its own.
 */

/** Telegram's limit for one message's text, counted after the HTML is parsed. */
export const TELEGRAM_TEXT_LIMIT = 4096;

interface Span {
  readonly text: string;
  readonly bold?: boolean;
  readonly italic?: boolean;
  readonly href?: string;
}

/**
 * `[words](url)`, `**bold**`, `*italic*` and `_italic_`. Emphasis never spans lines, and its
 * markers must stand at word edges, so `snake_case`, `2 * 3` and `a*b` stay as they are.
 */
const INLINE =
  /\[([^\]\n]+)\]\(((?:https?:\/\/|tg:\/\/|mailto:)[^\s()]+)\)|\*\*(?=\S)(.+?)(?<=\S)\*\*|(?<![\p{L}\p{N}_*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\p{L}\p{N}_*])|(?<![\p{L}\p{N}_])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![\p{L}\p{N}_])/gu;
const LIST_ITEM = /^(\s*)[-*+][ \t]+/gm;
/** Where a long text is best cut, best first. */
const BREAKS = ['\n\n', '\n', ' '];

/**
 * The messages to send for one text. `format` is the activity's textFormat: 'plain' (and 'xml',
 * which Telegram cannot show either) is only escaped; anything else is read as markdown.
 */
export function toTelegramHtml(text: string, format?: string, limit = TELEGRAM_TEXT_LIMIT): string[] {
  const spans = format === 'plain' || format === 'xml' ? [{ text }] : parseMarkdown(text);
  return cutPoints(spans.map((span) => span.text).join(''), limit)
    .map(([start, end]) => render(slice(spans, start, end)))
    .filter((html) => html.trim() !== '');
}

/** Escapes text for Telegram's HTML: only these three characters (and `"` in attributes) need it. */
function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function parseMarkdown(markdown: string): Span[] {
  // Telegram has no lists: a bullet reads the same and cannot be mistaken for emphasis.
  return parseInline(markdown.replace(LIST_ITEM, '$1• '), {});
}

function parseInline(text: string, style: Omit<Span, 'text'>): Span[] {
  const spans: Span[] = [];
  let at = 0;
  for (const match of text.matchAll(INLINE)) {
    const index = match.index;
    if (index > at) spans.push({ ...style, text: text.slice(at, index) });
    const [whole, linkText, href, bold, starItalic, underscoreItalic] = match;
    if (linkText !== undefined && href !== undefined) spans.push({ ...style, text: linkText, href });
    else if (bold !== undefined) spans.push(...parseInline(bold, { ...style, bold: true }));
    else spans.push(...parseInline(starItalic ?? underscoreItalic ?? '', { ...style, italic: true }));
    at = index + whole.length;
  }
  if (at < text.length) spans.push({ ...style, text: text.slice(at) });
  return spans;
}

function render(spans: readonly Span[]): string {
  return spans
    .map((span) => {
      let html = escapeHtml(span.text);
      if (span.italic) html = `<i>${html}</i>`;
      if (span.bold) html = `<b>${html}</b>`;
      if (span.href) html = `<a href="${escapeHtml(span.href)}">${html}</a>`;
      return html;
    })
    .join('');
}

/** [start, end) ranges of `plain`, each at most `limit` long, without the blanks they were cut at. */
function cutPoints(plain: string, limit: number): [number, number][] {
  const ranges: [number, number][] = [];
  let start = 0;
  while (plain.length - start > limit) {
    const window = plain.slice(start, start + limit + 1);
    // Not in the first half: a cut that early would leave a tiny message and many more after it.
    let cut = -1;
    for (const mark of BREAKS) {
      const found = window.lastIndexOf(mark, limit - 1);
      if (found > limit / 2) {
        cut = found;
        break;
      }
    }
    let end = cut > 0 ? start + cut : start + limit;
    // Never between the two halves of an emoji or other astral character.
    if (cut <= 0 && isHighSurrogate(plain.charCodeAt(end - 1))) end -= 1;
    ranges.push([start, end]);
    start = end;
    while (start < plain.length && /\s/.test(plain[start]!)) start += 1;
  }
  if (start < plain.length || ranges.length === 0) ranges.push([start, plain.length]);
  return ranges;
}

function slice(spans: readonly Span[], start: number, end: number): Span[] {
  const result: Span[] = [];
  let offset = 0;
  for (const span of spans) {
    const from = Math.max(start, offset);
    const to = Math.min(end, offset + span.text.length);
    if (from < to) result.push({ ...span, text: span.text.slice(from - offset, to - offset) });
    offset += span.text.length;
  }
  return result;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
