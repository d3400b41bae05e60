/**
 * One simulated person on our Direct Line service, for the fault and soak scripts: starts a
 * conversation with the site's secret under a user id the script chooses (so the script can find
 * the person's stored state afterwards), presses buttons, and reads the bot's replies by REST.
 *
 * A turn counts as acknowledged when its POST is answered: the service answers only after the
 * bot's turn has finished, state saved included (bot/waypointBot.ts run(), then
 * directLineRoutes.ts). The replies themselves go out earlier, before the save, so a reply seen
 * on the stream acknowledges nothing.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import type { Activity } from 'botbuilder';

/** What the bot said in one turn. */
export interface BotTurn {
  /** Every bot message text of the turn, in order. */
  readonly texts: readonly string[];
  /** The buttons on the turn's last message that offered any; empty when none did. */
  readonly buttons: readonly string[];
  /** From posting to the answer of the POST: the whole turn, state saved. */
  readonly ms: number;
}

export interface PersonOptions {
  readonly baseUrl: string;
  /** DIRECT_LINE_SECRET of the Waypoint under test. */
  readonly secret: string;
  readonly userId: string;
  /** Also hold the conversation's WebSocket stream open, as Web Chat does. */
  readonly stream?: boolean;
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export class DirectLinePerson {
  private watermark: string | undefined;
  private socket: WebSocket | undefined;
  private ending = false;
  /** Frames the stream delivered; how the stream failed, if it did before end(). */
  streamFrames = 0;
  streamFailure: string | undefined;

  private constructor(
    private readonly options: PersonOptions,
    readonly conversationId: string,
    private readonly token: string,
  ) {}

  get userId(): string {
    return this.options.userId;
  }

  /** Starts a conversation (the bot's welcome turn runs before the answer) and reads the welcome. */
  static async start(options: PersonOptions): Promise<{ person: DirectLinePerson; welcome: BotTurn }> {
    const started = performance.now();
    const body = await call<{ conversationId: string; token: string; streamUrl: string }>(
      `${options.baseUrl}/v3/directline/conversations`,
      options.secret,
      { method: 'POST', body: { user: { id: options.userId }, locale: 'en' } },
      options.timeoutMs,
    );
    const ms = performance.now() - started;
    const person = new DirectLinePerson(options, body.conversationId, body.token);
    if (options.stream) await person.openStream(body.streamUrl);
    return { person, welcome: await person.repliesSince(ms) };
  }

  /** Sends a message (a button's label, as Web Chat sends it) and reads what the bot said. */
  async say(text: string): Promise<BotTurn> {
    const started = performance.now();
    await call(this.activitiesUrl(), this.token, {
      method: 'POST',
      body: { type: 'message', text, locale: 'en', from: { id: this.userId }, channelData: { clientActivityID: randomUUID() } },
    }, this.options.timeoutMs);
    return this.repliesSince(performance.now() - started);
  }

  /** Leaves as Web Chat does when closed: the service ends the conversation and drops its buffer. */
  async end(): Promise<void> {
    this.ending = true;
    try {
      await call(this.activitiesUrl(), this.token, { method: 'POST', body: { type: 'endOfConversation', from: { id: this.userId } } }, this.options.timeoutMs);
    } finally {
      this.close();
    }
  }

  /** Drops the stream without telling the service (a closed tab, a dead server). */
  close(): void {
    this.ending = true;
    this.socket?.terminate();
    this.socket = undefined;
  }

  private async repliesSince(ms: number): Promise<BotTurn> {
    const query = this.watermark === undefined ? '' : `?watermark=${encodeURIComponent(this.watermark)}`;
    const group = await call<{ activities: Activity[]; watermark: string }>(`${this.activitiesUrl()}${query}`, this.token, { method: 'GET' }, this.options.timeoutMs);
    if (group.watermark) this.watermark = group.watermark;
    const messages = group.activities.filter((activity) => activity.from?.role === 'bot' && activity.type === 'message');
    const withButtons = messages.filter((activity) => (activity.suggestedActions?.actions ?? []).length > 0).pop();
    return {
      texts: messages.map((activity) => activity.text ?? ''),
      buttons: (withButtons?.suggestedActions?.actions ?? []).map((action) => String(action.value ?? action.title)),
      ms,
    };
  }

  private async openStream(streamUrl: string): Promise<void> {
    const socket = new WebSocket(streamUrl);
    this.socket = socket;
    socket.on('message', (data: Buffer) => {
      if (data.length === 0) return; // keep-alive
      try {
        JSON.parse(data.toString('utf8'));
        this.streamFrames++;
      } catch {
        this.streamFailure ??= 'a stream frame was not JSON';
      }
    });
    socket.on('close', (code) => {
      if (!this.ending) this.streamFailure ??= `stream closed (${code})`;
    });
    socket.on('error', (error) => {
      if (!this.ending) this.streamFailure ??= `stream error: ${error.message}`;
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
  }

  private activitiesUrl(): string {
    return `${this.options.baseUrl}/v3/directline/conversations/${encodeURIComponent(this.conversationId)}/activities`;
  }
}

/** A request that fails with the status and the service's error code, never with a body's text. */
async function call<T = unknown>(
  url: string,
  bearer: string,
  { method, body }: { method: 'GET' | 'POST'; body?: unknown },
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<T> {
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  if (!response.ok) {
    const code = errorCodeOf(text);
    throw new Error(`${method} ${new URL(url).pathname.replace(/conversations\/[^/]+/, 'conversations/:id')}: HTTP ${response.status} (${code})`);
  }
  return JSON.parse(text) as T;
}

function errorCodeOf(body: string): string {
  try {
    return (JSON.parse(body) as { error?: { code?: string } }).error?.code ?? 'no code';
  } catch {
    return 'not JSON';
  }
}
