/**
 * A Telegram Bot API server on a loopback port, for tests: the methods Waypoint calls, with
 * Telegram's JSON shapes (`{ ok: true, result }` / `{ ok: false, error_code, description,
 * parameters }`), long-polling getUpdates, and Telegram's HTML check (a stray `<` or `&` is
 * refused as the real server refuses it). It records every call, keeps each chat's messages as
 * the person's phone would show them (deleted ones marked), lets a test queue updates as a
 * person would cause them, and can fail the next call of a method once (a 429, say).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const FAKE_TOKEN = '123456789:fake-token-for-the-local-bot-api';
export const FAKE_BOT = {
  id: 123456789,
  is_bot: true,
  first_name: 'Waypoint',
  username: 'waypoint_test_bot',
  can_join_groups: false,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
} as const;

type Params = Record<string, unknown>;

export interface ApiCall {
  readonly method: string;
  readonly params: Params;
  /** Milliseconds since the fake started. */
  readonly at: number;
  /** 200, or the error code the fake answered with. */
  readonly status: number;
}

export interface InlineButton {
  readonly text: string;
  readonly callback_data?: string;
  readonly url?: string;
}

/** A message as the person's chat shows it. */
export interface ChatMessage {
  readonly messageId: number;
  readonly from: 'bot' | 'person';
  /** The text as shown: HTML parsed, entities decoded. */
  readonly text: string;
  /** What the bot sent, before parsing. */
  readonly html?: string;
  keyboard?: InlineButton[][];
  deleted: boolean;
  readonly sentAt: number;
}

export interface Failure {
  readonly errorCode: number;
  readonly description: string;
  readonly retryAfter?: number;
  /** Only a call for this chat fails; others pass. */
  readonly chatId?: number;
}

interface PersonOptions {
  readonly languageCode?: string;
  readonly chatType?: 'private' | 'group' | 'supergroup' | 'channel';
  readonly userId?: number;
}

const METHODS = new Set([
  'getMe',
  'getUpdates',
  'sendMessage',
  'sendChatAction',
  'answerCallbackQuery',
  'editMessageReplyMarkup',
  'deleteMessage',
  'setMyCommands',
  'setWebhook',
  'deleteWebhook',
  'leaveChat',
  'getFile',
]);
const MAX_POLL_SECONDS = 50;
const WAIT_MS = 5000;

export class FakeTelegramApi {
  readonly calls: ApiCall[] = [];
  /** Set by setWebhook, cleared by deleteWebhook. */
  webhook: { url: string; secretToken: string | undefined } | undefined;
  private readonly started = Date.now();
  private readonly chats = new Map<number, ChatMessage[]>();
  private readonly failures = new Map<string, Failure[]>();
  private pending: Record<string, unknown>[] = [];
  private nextUpdateId = 1;
  private readonly pollers = new Set<() => void>();
  private webhookDelivery: string | undefined;
  /** Every update below this was asked past by a getUpdates: the poller had taken it in. */
  private confirmedBelow = 0;
  private readonly deliveriesAnswered = new Set<number>();
  /** HTTP status of each webhook delivery (0: no answer). */
  readonly deliveries: Promise<number>[] = [];
  /** Long polls (getUpdates with a timeout) open now, and the most ever open at once: more than one is a conflict Telegram refuses. */
  openPolls = 0;
  maxOpenPolls = 0;

  private constructor(
    private readonly server: Server,
    readonly apiRoot: string,
  ) {}

  static async start(): Promise<FakeTelegramApi> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const api = new FakeTelegramApi(server, `http://127.0.0.1:${port}`);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void api.handle(req, res));
    return api;
  }

  /** Calls of one method, optionally only those for one chat. */
  callsTo(method: string, chatId?: number): ApiCall[] {
    return this.calls.filter((call) => call.method === method && (chatId === undefined || call.params.chat_id === chatId));
  }

  /** Every message of a chat, deleted ones included (marked). */
  messages(chatId: number): ChatMessage[] {
    return this.chats.get(chatId) ?? [];
  }

  /** The next call of `method` (for that chat, if given) fails once with this error. */
  failNext(method: string, failure: Failure): void {
    this.failures.set(method, [...(this.failures.get(method) ?? []), failure]);
  }

  /** The person writes (or sends media): any Message fields besides chat, from, id and date. */
  personSends(chatId: number, fields: Params, options: PersonOptions = {}): number {
    const messageId = this.addMessage(chatId, { from: 'person', text: typeof fields.text === 'string' ? fields.text : '' });
    this.queueUpdate({ message: { ...this.envelope(chatId, messageId, options), ...fields } });
    return messageId;
  }

  /** The person changes a message they sent. */
  personEdits(chatId: number, messageId: number, text: string, options: PersonOptions = {}): void {
    this.queueUpdate({ edited_message: { ...this.envelope(chatId, messageId, options), edit_date: now(), text } });
  }

  /** The person taps a button: the callback query carries the message with its keyboard, as Telegram's does. */
  personPresses(chatId: number, messageId: number, data: string, options: PersonOptions = {}): string {
    const message = this.messages(chatId).find((m) => m.messageId === messageId);
    const id = `cb${this.nextUpdateId}`;
    this.queueUpdate({
      callback_query: {
        id,
        from: this.user(chatId, options),
        chat_instance: `instance-${chatId}`,
        data,
        message: {
          message_id: messageId,
          date: now(),
          chat: { id: chatId, type: options.chatType ?? 'private' },
          from: FAKE_BOT,
          text: message?.text ?? '',
          ...(message?.keyboard?.length ? { reply_markup: { inline_keyboard: message.keyboard } } : {}),
        },
      },
    });
    return id;
  }

  /**
   * Any other update (a channel post, the bot added to a group…). With a webhook set and a
   * delivery address given, it is POSTed there with the secret header, as Telegram does;
   * otherwise it waits for getUpdates.
   */
  queueUpdate(update: Params): number {
    const updateId = this.nextUpdateId++;
    const full = { update_id: updateId, ...update };
    if (this.webhook && this.webhookDelivery) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (this.webhook.secretToken) headers['x-telegram-bot-api-secret-token'] = this.webhook.secretToken;
      const delivered = fetch(this.webhookDelivery, { method: 'POST', headers, body: JSON.stringify(full) })
        .then(
          (res) => res.status,
          () => 0,
        )
        .finally(() => this.deliveriesAnswered.add(updateId));
      this.deliveries.push(delivered);
      return updateId;
    }
    this.pending.push(full);
    for (const wake of [...this.pollers]) wake();
    return updateId;
  }

  /** The id of the update queued last (0: none yet). */
  get lastUpdateId(): number {
    return this.nextUpdateId - 1;
  }

  /**
   * Whether the bot has taken this update in. Polling: a later getUpdates asked from past it
   * (Waypoint's loop accepts every update of an answer before it asks again). Webhook: the
   * delivery has been answered (Waypoint queues the update before it answers).
   */
  takenIn(updateId: number): boolean {
    return updateId < this.confirmedBelow || this.deliveriesAnswered.has(updateId);
  }

  /**
   * Where webhook updates really go (the URL given to setWebhook names the public address; a
   * test's server listens on loopback). Statuses of the deliveries are kept in `deliveries`.
   */
  deliverWebhookTo(url: string): void {
    this.webhookDelivery = url;
  }

  /** Waits until `probe` returns something other than undefined. */
  async waitFor<T>(probe: () => T | undefined, what: string, timeoutMs = WAIT_MS): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = probe();
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`fake Bot API: waited ${timeoutMs} ms for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async close(): Promise<void> {
    for (const wake of [...this.pollers]) wake();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private envelope(chatId: number, messageId: number, options: PersonOptions): Params {
    const chatType = options.chatType ?? 'private';
    return {
      message_id: messageId,
      date: now(),
      chat: chatType === 'private' ? { id: chatId, type: 'private', first_name: 'Someone' } : { id: chatId, type: chatType, title: 'A group' },
      ...(chatType === 'channel' ? {} : { from: this.user(chatId, options) }),
    };
  }

  private user(chatId: number, options: PersonOptions): Params {
    return {
      id: options.userId ?? chatId,
      is_bot: false,
      first_name: 'Someone',
      username: `someone${Math.abs(chatId)}`,
      ...(options.languageCode ? { language_code: options.languageCode } : {}),
    };
  }

  private addMessage(chatId: number, message: Omit<ChatMessage, 'messageId' | 'deleted' | 'sentAt'>): number {
    const messages = this.chats.get(chatId) ?? [];
    this.chats.set(chatId, messages);
    const messageId = messages.length + 1;
    messages.push({ ...message, messageId, deleted: false, sentAt: Date.now() - this.started });
    return messageId;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec((req.url ?? '').split('?')[0] ?? '');
    const params = await readParams(req);
    if (!match || match[1] !== FAKE_TOKEN) return reply(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    const method = match[2]!;
    const record = (status: number) => this.calls.push({ method, params, at: Date.now() - this.started, status });
    if (!METHODS.has(method)) {
      record(404);
      return reply(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    }
    const failure = this.takeFailure(method, params);
    if (failure) {
      record(failure.errorCode);
      return reply(res, failure.errorCode, {
        ok: false,
        error_code: failure.errorCode,
        description: failure.description,
        ...(failure.retryAfter !== undefined ? { parameters: { retry_after: failure.retryAfter } } : {}),
      });
    }
    if (method === 'getUpdates') {
      record(this.webhook ? 409 : 200);
      if (this.webhook) return reply(res, 409, { ok: false, error_code: 409, description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first" });
      return reply(res, 200, { ok: true, result: await this.poll(params, res) });
    }
    const outcome = this.answer(method, params);
    record(outcome.ok ? 200 : outcome.error_code);
    reply(res, outcome.ok ? 200 : outcome.error_code, outcome);
  }

  private takeFailure(method: string, params: Params): Failure | undefined {
    const queued = this.failures.get(method) ?? [];
    const index = queued.findIndex((f) => f.chatId === undefined || f.chatId === params.chat_id);
    if (index < 0) return undefined;
    return queued.splice(index, 1)[0];
  }

  /** Long polling: answers at once when updates wait, else when one is queued or the timeout passes. */
  private async poll(params: Params, res: ServerResponse): Promise<Params[]> {
    const offset = typeof params.offset === 'number' ? params.offset : 0;
    const limit = typeof params.limit === 'number' ? params.limit : 100;
    const timeoutSeconds = Math.min(typeof params.timeout === 'number' ? params.timeout : 0, MAX_POLL_SECONDS);
    // Asking from an offset confirms every update before it: they are never sent again.
    this.confirmedBelow = Math.max(this.confirmedBelow, offset);
    this.pending = this.pending.filter((update) => (update.update_id as number) >= offset);
    if (timeoutSeconds > 0) this.maxOpenPolls = Math.max(this.maxOpenPolls, ++this.openPolls);
    if (this.pending.length === 0 && timeoutSeconds > 0) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.pollers.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, timeoutSeconds * 1000);
        this.pollers.add(wake);
        // A client that gives up (an aborted poll at shutdown) ends the wait.
        res.once('close', wake);
      });
    }
    if (timeoutSeconds > 0) this.openPolls--;
    return this.pending.slice(0, limit);
  }

  private answer(method: string, params: Params): { ok: true; result: unknown } | { ok: false; error_code: number; description: string } {
    const chatId = params.chat_id as number;
    switch (method) {
      case 'getMe':
        return ok(FAKE_BOT);
      case 'sendMessage': {
        if (typeof params.text !== 'string') return bad('Bad Request: message text is empty');
        let text = params.text;
        if (params.parse_mode === 'HTML') {
          const parsed = parseTelegramHtml(params.text);
          if (typeof parsed !== 'string') return bad(`Bad Request: can't parse entities: ${parsed.problem}`);
          text = parsed;
        }
        if (text.trim() === '') return bad('Bad Request: message text is empty');
        if (text.length > 4096) return bad('Bad Request: message is too long');
        const keyboard = (params.reply_markup as { inline_keyboard?: InlineButton[][] } | undefined)?.inline_keyboard;
        for (const button of keyboard?.flat() ?? []) {
          if (button.callback_data !== undefined && Buffer.byteLength(button.callback_data) > 64) return bad('Bad Request: BUTTON_DATA_INVALID');
        }
        const messageId = this.addMessage(chatId, { from: 'bot', text, html: params.text, keyboard });
        return ok({ message_id: messageId, date: now(), chat: { id: chatId, type: 'private' }, from: FAKE_BOT, text, ...(keyboard ? { reply_markup: { inline_keyboard: keyboard } } : {}) });
      }
      case 'editMessageReplyMarkup': {
        const message = this.messages(chatId).find((m) => m.messageId === params.message_id && !m.deleted);
        if (!message) return bad('Bad Request: message to edit not found');
        const keyboard = (params.reply_markup as { inline_keyboard?: InlineButton[][] } | undefined)?.inline_keyboard ?? [];
        if (JSON.stringify(keyboard) === JSON.stringify(message.keyboard ?? [])) return bad('Bad Request: message is not modified');
        message.keyboard = keyboard;
        return ok(true);
      }
      case 'deleteMessage': {
        const message = this.messages(chatId).find((m) => m.messageId === params.message_id && !m.deleted);
        if (!message) return bad('Bad Request: message to delete not found');
        message.deleted = true;
        return ok(true);
      }
      case 'setWebhook':
        this.webhook = { url: String(params.url), secretToken: params.secret_token as string | undefined };
        return ok(true);
      case 'deleteWebhook':
        this.webhook = undefined;
        return ok(true);
      case 'getFile':
        return bad('Bad Request: invalid file_id');
      default:
        // sendChatAction, answerCallbackQuery, setMyCommands, leaveChat.
        return ok(true);
    }
  }
}

/**
 * Telegram's HTML rules, as far as they matter here: only its tags, properly nested; `<`, `>`
 * and `&` only as `&lt;`, `&gt;`, `&amp;` (or `&quot;` and numeric entities). Returns the text
 * as shown, or what is wrong.
 */
export function parseTelegramHtml(html: string): string | { problem: string } {
  const allowed = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'a', 'code', 'pre', 'tg-spoiler', 'blockquote', 'span']);
  const open: string[] = [];
  let text = '';
  const token = /<(\/?)([a-z-]+)((?:\s+[a-z-]+="[^"<>]*")*)\s*>|&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);|[<>&]|[^<>&]+/g;
  for (const match of html.matchAll(token)) {
    const [whole, closing, tag, , entity] = match;
    if (tag !== undefined) {
      if (!allowed.has(tag)) return { problem: `Unsupported start tag "${tag}"` };
      if (closing) {
        if (open.pop() !== tag) return { problem: `Can't find end tag corresponding to start tag "${tag}"` };
      } else open.push(tag);
    } else if (entity !== undefined) {
      text += entity === 'lt' ? '<' : entity === 'gt' ? '>' : entity === 'amp' ? '&' : entity === 'quot' ? '"' : String.fromCodePoint(Number(entity.startsWith('#x') ? `0x${entity.slice(2)}` : entity.slice(1)));
    } else if (whole === '<' || whole === '>' || whole === '&') {
      return { problem: `Unexpected "${whole}" at byte offset ${match.index}` };
    } else text += whole;
  }
  if (open.length > 0) return { problem: `Can't find end tag corresponding to start tag "${open.at(-1)}"` };
  return text;
}

function ok(result: unknown): { ok: true; result: unknown } {
  return { ok: true, result };
}

function bad(description: string): { ok: false; error_code: number; description: string } {
  return { ok: false, error_code: 400, description };
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readParams(req: IncomingMessage): Promise<Params> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString('utf8');
  const query = Object.fromEntries(new URL(req.url ?? '/', 'http://fake').searchParams);
  if (body === '') return query;
  if ((req.headers['content-type'] ?? '').includes('application/json')) return { ...query, ...(JSON.parse(body) as Params) };
  return { ...query, ...Object.fromEntries(new URLSearchParams(body)) };
}
