/**
 * The real Direct Line client library (botframework-directlinejs, what Web Chat uses) running
 * in Node against our service: XMLHttpRequest comes from xhr2 and WebSocket from ws, which is
 * all the library needs of a browser.
 */
import { DirectLine, ConnectionStatus } from 'botframework-directlinejs';
import WebSocket from 'ws';
import XMLHttpRequest from 'xhr2';
import type { Activity } from 'botbuilder';

const globals = globalThis as unknown as Record<string, unknown>;
globals.XMLHttpRequest ??= XMLHttpRequest;
globals.WebSocket ??= WebSocket;

export { ConnectionStatus };

export interface ClientOptions {
  readonly baseUrl: string;
  readonly token: string;
  readonly webSocket: boolean;
  readonly conversationId?: string;
  readonly watermark?: string;
  readonly locale?: string;
}

/** A person's Direct Line client: what the bot sends arrives in `received`, in order. */
export class DirectLineClient {
  readonly directLine: DirectLine;
  readonly received: Activity[] = [];
  private waiters: (() => void)[] = [];
  private readonly subscription: { unsubscribe(): void };

  constructor(options: ClientOptions) {
    this.directLine = new DirectLine({
      token: options.token,
      domain: `${options.baseUrl}/v3/directline`,
      webSocket: options.webSocket,
      conversationId: options.conversationId,
      watermark: options.watermark,
      pollingInterval: 200,
      conversationStartProperties: options.locale ? { locale: options.locale } : undefined,
    } as ConstructorParameters<typeof DirectLine>[0]);
    this.subscription = this.directLine.activity$.subscribe((activity) => {
      this.received.push(activity as unknown as Activity);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** Resolves with the id the service gave the activity. */
  post(text: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.directLine
        .postActivity({ type: 'message', from: { id: 'me', role: 'user' }, text, channelData: { clientActivityID: `c-${Math.random()}` } } as never)
        .subscribe({ next: resolve, error: reject });
    });
  }

  /** Waits until an activity from the bot matches, up to `timeoutMs`. */
  async waitFor(match: (activity: Activity) => boolean, timeoutMs = 5000): Promise<Activity> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find((activity) => activity.from?.role === 'bot' && match(activity));
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching activity within ${timeoutMs} ms; got: ${JSON.stringify(this.received.map((a) => a.text))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  waitForText(pattern: RegExp, timeoutMs?: number): Promise<Activity> {
    return this.waitFor((activity) => typeof activity.text === 'string' && pattern.test(activity.text), timeoutMs);
  }

  end(): void {
    this.subscription.unsubscribe();
    this.directLine.end();
  }
}
