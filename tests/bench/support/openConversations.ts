/**
 * The people of tests/bench/conversationMemory.ts, in a child process of their own so that
 * neither their heap nor their sockets count against the server's: each starts a Direct Line
 * conversation (the welcome turn runs), opens the stream, gets the welcome, agrees to the terms
 * and gets the answer, then keeps the stream open until told to close it. Spoken to over IPC,
 * one command at a time; loopback only.
 */
import { once } from 'node:events';
import { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Activity } from 'botbuilder';
import WebSocket from 'ws';
import { postJson } from './postJson.js';

export type OpenerCommand =
  | {
      readonly kind: 'open';
      readonly url: string;
      /** The Direct Line secret, as a site's own server holds it: no widget rate limit in the way. */
      readonly secret: string;
      readonly count: number;
      readonly concurrency: number;
      /** What the person says after the welcome (the consent button). */
      readonly say: string;
    }
  | { readonly kind: 'closeStreams' }
  | { readonly kind: 'exit' };

export type OpenerReport =
  | { readonly kind: 'opened'; readonly opened: number; readonly failed: number; readonly problem: string | undefined; readonly seconds: number }
  | { readonly kind: 'streamsClosed'; readonly closed: number }
  | { readonly kind: 'failed'; readonly message: string };

const REPLY_TIMEOUT_MS = 30_000;
/** Bounded, so the HTTP sockets are a fixed few and not one per person. */
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
let streams: WebSocket[] = [];

async function openOne(url: string, secret: string, say: string): Promise<WebSocket> {
  const started = await postJson<{ conversationId: string; token: string; streamUrl: string }>(agent, `${url}/v3/directline/conversations`, secret, { locale: 'en' });
  const stream = new WebSocket(started.streamUrl);
  stream.on('error', () => undefined);
  try {
    const botMessages = countBotMessages(stream);
    await once(stream, 'open');
    await botMessages.atLeast(1);
    const welcomed = botMessages.count();
    const activities = `${url}/v3/directline/conversations/${encodeURIComponent(started.conversationId)}/activities`;
    await postJson(agent, activities, started.token, { type: 'message', text: say, locale: 'en', channelData: { clientActivityID: `bench-${performance.now()}` } });
    await botMessages.atLeast(welcomed + 1);
    botMessages.stop();
    return stream;
  } catch (error) {
    stream.terminate();
    throw error;
  }
}

/** Counts the bot's messages arriving on a stream, and waits for a number of them. */
function countBotMessages(stream: WebSocket) {
  let seen = 0;
  let wake = () => {};
  const onMessage = (data: Buffer) => {
    if (data.length === 0) return; // keep-alive
    const group = JSON.parse(data.toString('utf8')) as { activities: Activity[] };
    seen += group.activities.filter((activity) => activity.from?.role === 'bot' && activity.type === 'message').length;
    wake();
  };
  stream.on('message', onMessage);
  return {
    count: () => seen,
    stop: () => stream.off('message', onMessage),
    atLeast(wanted: number): Promise<void> {
      if (seen >= wanted) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no reply within ${REPLY_TIMEOUT_MS} ms`)), REPLY_TIMEOUT_MS);
        wake = () => {
          if (seen < wanted) return;
          clearTimeout(timer);
          resolve();
        };
      });
    },
  };
}

async function openMany(command: Extract<OpenerCommand, { kind: 'open' }>): Promise<OpenerReport> {
  const started = performance.now();
  let next = 0;
  let failed = 0;
  let problem: string | undefined;
  const worker = async () => {
    while (next < command.count) {
      next++;
      try {
        streams.push(await openOne(command.url, command.secret, command.say));
      } catch (error) {
        failed++;
        problem ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(command.concurrency, command.count) }, worker));
  return { kind: 'opened', opened: command.count - failed, failed, problem, seconds: (performance.now() - started) / 1000 };
}

function closeStreams(): OpenerReport {
  const closed = streams.length;
  // terminate(): the connection drops as a closed laptop's does; the conversations stay open.
  for (const stream of streams) stream.terminate();
  streams = [];
  return { kind: 'streamsClosed', closed };
}

function answer(report: OpenerReport): void {
  process.send?.(report);
}

process.on('message', (command: OpenerCommand) => {
  const handled = (async (): Promise<OpenerReport | undefined> => {
    switch (command.kind) {
      case 'open':
        return openMany(command);
      case 'closeStreams':
        return closeStreams();
      case 'exit':
        closeStreams();
        agent.destroy();
        process.disconnect?.();
        return undefined;
    }
  })();
  handled.then(
    (report) => report && answer(report),
    (error: unknown) => answer({ kind: 'failed', message: error instanceof Error ? error.message : String(error) }),
  );
});
// The parent's end is the end: no orphan holding ten thousand sockets.
process.on('disconnect', () => process.exit(0));
