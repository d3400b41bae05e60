/**
 * Messages between Waypoint instances over Redis pub/sub. Each instance listens on a channel of
 * its own, so one can ask another a question and wait for the answer (with a deadline), tell it
 * something, or ask every instance at once and gather the answers; topics carry news to whoever
 * listens (a stream held on another instance). A published message passes through Redis and is
 * stored nowhere, so it may carry a reply on its way to a person's screen; keys may not (see
 * DESIGN.md). PUBLISH says how many listened, so a question to an instance that is gone fails at
 * once instead of waiting for its deadline.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { newErrorId, type Logger } from '../privacy/logger.js';
import { BusError, isBusCode } from './busError.js';
import { connectRedis } from './redisConnection.js';

export { BusError, type BusCode } from './busError.js';

/** An answer slower than this is treated as no answer: the caller's request is waiting on it. */
const DEFAULT_TIMEOUT_MS = 2000;

export type BusHandler = (body: unknown, from: string) => unknown;
export type TopicListener = (body: unknown) => void;

export interface InstanceBus {
  /** This process's id among the instances, new at every start. */
  readonly instanceId: string;
  /** The connection for keys and scripts, shared by the parts that need one. */
  readonly redis: Redis;
  /**
   * Resolves true once other instances can reach this one, or false when Redis did not confirm
   * in time (it is down: the bus keeps trying and listens as soon as Redis is back).
   */
  readonly listening: Promise<boolean>;
  /** Answers questions (and tellings) of this kind from other instances, in the order each sender sent them. */
  handle(kind: string, handler: BusHandler): void;
  /** Asks one instance; rejects with BusError 'unreachable', 'timeout' or its handler's 'failed'. */
  request<T>(instanceId: string, kind: string, body: unknown, timeoutMs?: number): Promise<T>;
  /** Tells one instance without waiting for an answer; false when it was not listening. */
  tell(instanceId: string, kind: string, body: unknown): Promise<boolean>;
  /** Asks every other instance; the answers that came within the time, in no order. */
  gather<T>(kind: string, body: unknown, timeoutMs?: number): Promise<T[]>;
  /** Publishes to a topic; resolves to how many instances listened. */
  publish(topic: string, body: unknown): Promise<number>;
  /** Listens to a topic; resolves once Redis confirms, to the function that stops listening. */
  subscribe(topic: string, listener: TopicListener): Promise<() => void>;
  close(): Promise<void>;
}

export interface InstanceBusOptions {
  readonly url: string;
  /** Put before every channel name: pub/sub ignores database numbers, so deployments need it. */
  readonly prefix: string;
  readonly log: Logger;
}

interface Envelope {
  /** Kind, of a question or a telling. */
  readonly k?: string;
  /** The sender of a question or a telling. */
  readonly f?: string;
  /** A question's correlation id, echoed on its answer; a telling has none. */
  readonly c?: string;
  /** Set on an answer. */
  readonly r?: string;
  /** An answer's failure code. */
  readonly e?: string;
  readonly b?: unknown;
}

interface Waiting {
  readonly settle: (envelope: Envelope) => void;
}

export function createInstanceBus({ url, prefix, log }: InstanceBusOptions): InstanceBus {
  const instanceId = randomBytes(9).toString('base64url');
  const redis = connectRedis(url, { log, name: 'bus' });
  const listener = connectRedis(url, { log, name: 'bus-listen' });
  const ownChannel = `${prefix}bus:i:${instanceId}`;
  const allChannel = `${prefix}bus:all`;
  const handlers = new Map<string, BusHandler>();
  const waiting = new Map<string, Waiting>();
  const topics = new Map<string, Set<TopicListener>>();
  let nextCorrelation = 0;
  let closed = false;

  const channelOf = (id: string) => `${prefix}bus:i:${id}`;
  const topicChannel = (topic: string) => `${prefix}${topic}`;
  const wanted = () => [ownChannel, allChannel, ...[...topics.keys()].map(topicChannel)];

  // Subscriptions made while Redis was down never reached it, and a Redis that restarted has
  // forgotten all of them: every (re)connection asks for the whole set again (a repeat is harmless).
  let confirmListening: (listening: boolean) => void = () => {};
  const listening = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), DEFAULT_TIMEOUT_MS);
    timer.unref();
    confirmListening = (value) => {
      clearTimeout(timer);
      resolve(value);
    };
  });
  listener.on('ready', () => {
    if (closed) return;
    listener.subscribe(...wanted()).then(
      () => confirmListening(true),
      (error: NodeJS.ErrnoException) => log.warn({ event: 'bus.subscribeFailed', code: error.code ?? 'UNKNOWN' }),
    );
  });

  listener.on('message', (channel: string, text: string) => {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(text) as Envelope;
    } catch {
      return;
    }
    if (channel === ownChannel || channel === allChannel) return void received(envelope, channel === allChannel);
    for (const listen of [...(topics.get(channel.slice(prefix.length)) ?? [])]) {
      // A listener's mistake must not reach the connection that read the message.
      try {
        listen(envelope.b);
      } catch (error) {
        failed('topic', error);
      }
    }
  });

  function received(envelope: Envelope, broadcast: boolean): void {
    if (envelope.r !== undefined) return void waiting.get(envelope.r)?.settle(envelope);
    const { c: correlation, f: from, k: kind } = envelope;
    if (kind === undefined || from === undefined || (broadcast && from === instanceId)) return;
    const handler = handlers.get(kind);
    if (!handler) return void (correlation === undefined || send(from, { r: correlation, e: 'failed' }));
    // Called at once, not after a tick: messages of one sender are handled in the order sent.
    let answer: unknown;
    try {
      answer = handler(envelope.b, from);
    } catch (error) {
      answer = Promise.reject(error);
    }
    if (correlation === undefined) {
      if (answer instanceof Promise) answer.catch((error: unknown) => failed(kind, error));
      return;
    }
    Promise.resolve(answer).then(
      (body: unknown) => send(from, { r: correlation, b: body }),
      (error: unknown) => {
        const code = error instanceof BusError ? error.code : 'failed';
        if (code === 'failed') failed(kind, error);
        return send(from, { r: correlation, e: code });
      },
    );
  }

  function failed(kind: string, error: unknown): void {
    log.error({ event: 'bus.handlerFailed', kind, errorId: newErrorId(), err: error });
  }

  async function send(to: string, envelope: Envelope): Promise<number> {
    try {
      return await redis.publish(channelOf(to), JSON.stringify(envelope));
    } catch {
      return 0;
    }
  }

  /**
   * Publishes a question and settles once `expected(listeners)` answers came: a negative count
   * means nobody listened (unreachable). At the deadline a gathering settles with what it has,
   * a single question fails.
   */
  function ask<T>(channel: string, kind: string, body: unknown, timeoutMs: number, expected: (listeners: number) => number, gathering: boolean): Promise<T[]> {
    if (closed) return Promise.reject(new BusError('closed'));
    const correlation = `${instanceId}.${(nextCorrelation++).toString(36)}`;
    return new Promise<T[]>((resolve, reject) => {
      const answers: T[] = [];
      let needed = Infinity;
      const finish = (outcome: () => void) => {
        clearTimeout(timer);
        waiting.delete(correlation);
        outcome();
      };
      const timer = setTimeout(() => finish(() => (gathering ? resolve(answers) : reject(new BusError('timeout')))), timeoutMs);
      timer.unref();
      let heard = 0;
      waiting.set(correlation, {
        settle(envelope) {
          // One instance that cannot answer (it has no such handler) does not spoil a gathering.
          if (envelope.e !== undefined && !(gathering && envelope.e === 'failed')) {
            return finish(() => reject(new BusError(isBusCode(envelope.e) ? envelope.e : 'failed')));
          }
          heard++;
          if (envelope.e === undefined) answers.push(envelope.b as T);
          if (heard >= needed) finish(() => resolve(answers));
        },
      });
      redis.publish(channel, JSON.stringify({ k: kind, f: instanceId, c: correlation, b: body } satisfies Envelope)).then(
        (listeners) => {
          if (!waiting.has(correlation)) return;
          needed = expected(listeners);
          if (needed < 0) finish(() => reject(new BusError('unreachable')));
          else if (heard >= needed) finish(() => resolve(answers));
        },
        (error: unknown) => finish(() => reject(error)),
      );
    });
  }

  return {
    instanceId,
    redis,
    listening,
    handle(kind, handler) {
      handlers.set(kind, handler);
    },
    async request<T>(to: string, kind: string, body: unknown, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
      // Nobody listening on the instance's channel: it has stopped or crashed.
      const [answer] = await ask<T>(channelOf(to), kind, body, timeoutMs, (listeners) => (listeners > 0 ? 1 : -1), false);
      return answer as T;
    },
    async tell(to, kind, body) {
      if (closed) return false;
      return (await redis.publish(channelOf(to), JSON.stringify({ k: kind, f: instanceId, b: body } satisfies Envelope))) > 0;
    },
    async gather<T>(kind: string, body: unknown, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T[]> {
      // Everyone subscribed hears it, this instance too; it does not answer itself.
      return ask<T>(allChannel, kind, body, timeoutMs, (listeners) => Math.max(0, listeners - 1), true);
    },
    async publish(topic, body) {
      return redis.publish(topicChannel(topic), JSON.stringify({ b: body } satisfies Envelope));
    },
    async subscribe(topic, listen) {
      let listeners = topics.get(topic);
      const first = !listeners;
      if (!listeners) topics.set(topic, (listeners = new Set()));
      listeners.add(listen);
      const stop = () => {
        const current = topics.get(topic);
        if (!current?.delete(listen) || current.size > 0) return;
        topics.delete(topic);
        if (!closed) listener.unsubscribe(topicChannel(topic)).catch(() => undefined);
      };
      if (first) {
        try {
          await listener.subscribe(topicChannel(topic));
        } catch (error) {
          stop();
          throw error;
        }
      }
      return stop;
    },
    async close() {
      if (closed) return;
      closed = true;
      confirmListening(false);
      for (const { settle } of [...waiting.values()]) settle({ e: 'closed' });
      listener.disconnect();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
