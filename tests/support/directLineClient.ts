/**
 * The real Direct Line client library (botframework-directlinejs, what Web Chat uses) running
 * in Node against our service: XMLHttpRequest comes from xhr2 and WebSocket from ws, which is
 * all the library needs of a browser.
 */
import { createRequire } from 'node:module';
import { DirectLine, ConnectionStatus } from 'botframework-directlinejs';
import WebSocket from 'ws';
import type { Activity } from 'botbuilder';

const globals = globalThis as unknown as Record<string, unknown>;
// xhr2 ships no types; the library only needs it to exist as the global XMLHttpRequest.
globals.XMLHttpRequest ??= createRequire(import.meta.url)('xhr2') as unknown;
globals.WebSocket ??= WebSocket;

export { ConnectionStatus };

export interface ClientOptions {
  readonly baseUrl: string;
  /** A conversation token (what the widget gets), or else `secret`. */
  readonly token?: string;
  /** The site's Direct Line secret, as a server-side client would hold it. */
  readonly secret?: string;
  readonly webSocket: boolean;
  /** With `watermark`: reconnect to a conversation this client (or another tab) started. */
  readonly conversationId?: string;
  readonly watermark?: string;
  readonly locale?: string;
}

/** The library keeps these private; tests read them to act as Web Chat would on a reconnect. */
interface LibraryInternals {
  readonly watermark: string;
  readonly token: string;
  refreshToken(): { subscribe(observer: { next(token: string): void; error(error: unknown): void }): unknown };
}

/** A person's Direct Line client: everything the service sends (its own echoes too) arrives in `received`, in order. */
export class DirectLineClient {
  readonly directLine: DirectLine;
  readonly received: Activity[] = [];
  private waiters: (() => void)[] = [];
  private readonly subscriptions: { unsubscribe(): void }[];
  private sent = 0;
  /** Why the library stopped delivering activities, once it has (e.g. "conversation ended"). */
  failure: unknown;

  constructor(options: ClientOptions) {
    this.directLine = new DirectLine({
      token: options.token,
      secret: options.secret,
      domain: `${options.baseUrl}/v3/directline`,
      webSocket: options.webSocket,
      conversationId: options.conversationId,
      watermark: options.watermark,
      pollingInterval: 200,
      conversationStartProperties: options.locale ? { locale: options.locale } : undefined,
    } as ConstructorParameters<typeof DirectLine>[0]);
    this.subscriptions = [
      this.directLine.activity$.subscribe({
        next: (activity) => {
          this.received.push(activity as unknown as Activity);
          this.wake();
        },
        // The library ends the activity stream with an error (e.g. when the conversation ends); kept for the test to read.
        error: (error: unknown) => {
          this.failure = error;
          this.wake();
        },
      }),
      this.directLine.connectionStatus$.subscribe(() => this.wake()),
    ];
  }

  /** The watermark the library would reconnect with. */
  get watermark(): string {
    return (this.directLine as unknown as LibraryInternals).watermark;
  }

  /** The token the library sends now (it replaces it when it refreshes). */
  get token(): string {
    return (this.directLine as unknown as LibraryInternals).token;
  }

  /** Sends a message as Web Chat does (with a clientActivityID); resolves with the id the service gave it. */
  post(text: string, clientActivityID = `c-${++this.sent}-${Date.now()}`): Promise<string> {
    return this.postActivity({ type: 'message', from: { id: 'me', role: 'user' }, text, channelData: { clientActivityID } });
  }

  postActivity(activity: Record<string, unknown>): Promise<string> {
    return new Promise((resolve, reject) => {
      this.directLine.postActivity(activity as never).subscribe({ next: resolve, error: reject });
    });
  }

  /** The library's own token refresh (Web Chat runs it every 15 minutes); resolves with the new token. */
  refreshToken(): Promise<string> {
    return new Promise((resolve, reject) => {
      (this.directLine as unknown as LibraryInternals).refreshToken().subscribe({ next: resolve, error: reject });
    });
  }

  /** Waits until an activity from the bot matches, up to `timeoutMs`. */
  waitFor(match: (activity: Activity) => boolean, timeoutMs = 5000): Promise<Activity> {
    return this.waitForAny((activity) => activity.from?.role === 'bot' && match(activity), timeoutMs);
  }

  waitForText(pattern: RegExp | string, timeoutMs?: number): Promise<Activity> {
    const matches = (text: string) => (typeof pattern === 'string' ? text === pattern : pattern.test(text));
    return this.waitFor((activity) => typeof activity.text === 'string' && matches(activity.text), timeoutMs);
  }

  /** Waits for the service's echo of the person's own activity, as Web Chat does to mark it sent. */
  waitForEcho(clientActivityID: string, timeoutMs?: number): Promise<Activity> {
    return this.waitForAny(
      (activity) => (activity.channelData as { clientActivityID?: unknown } | undefined)?.clientActivityID === clientActivityID,
      timeoutMs,
    );
  }

  async waitForStatus(status: ConnectionStatus, timeoutMs = 5000): Promise<void> {
    await this.until(() => (this.directLine.connectionStatus$.getValue() === status ? true : undefined), timeoutMs, () => `status ${ConnectionStatus[this.directLine.connectionStatus$.getValue()]}`);
  }

  end(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.directLine.end();
  }

  private waitForAny(match: (activity: Activity) => boolean, timeoutMs = 5000): Promise<Activity> {
    return this.until(
      () => this.received.find(match),
      timeoutMs,
      () => `got: ${JSON.stringify(this.received.map((a) => a.text ?? a.type))}`,
    );
  }

  private async until<T>(found: () => T | undefined, timeoutMs: number, describe: () => string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const result = found();
      if (result !== undefined) return result;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`nothing matched within ${timeoutMs} ms; ${describe()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}
