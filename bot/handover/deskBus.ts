/**
 * The handover desk's messages between instances, on the instance bus (Redis pub/sub): a
 * person's words to the instances where their counsellor's console is open, a counsellor's words
 * to the instance that can reach the person, and news every instance should hear. Pub/sub hands
 * a message to whoever listens at that moment and keeps nothing, so no word is ever stored in
 * Redis; a message that finds nobody listening is reported as such, never queued.
 */
import type { ConsoleFrame } from './consoleFrames.js';
import type { PersonEvent } from './handoverDesk.js';
import type { InstanceBus } from '../redis/instanceBus.js';
import type { Logger } from '../privacy/logger.js';

/** For the person's home instance: something to pass on in their conversation. */
export type PersonDelivery =
  | { readonly kind: 'text'; readonly personKey: string; readonly chatId: string; readonly counsellor: string; readonly text: string; readonly ref: string | undefined }
  | { readonly kind: 'typing'; readonly personKey: string; readonly chatId: string }
  | {
      readonly kind: 'event';
      readonly personKey: string;
      readonly event: PersonEvent;
      /** With `connected`: the chat that opened, so the home can follow it. */
      readonly chat?: { readonly chatId: string; readonly counsellor: string; readonly connectedAt: number };
    }
  /** The person's turns now run on another instance, which holds their link from now on. */
  | { readonly kind: 'release'; readonly personKey: string };

/** News for every instance; none carries words. */
export type DeskNews =
  /** The queue, a chat or presence changed: refresh the consoles' views. */
  | { readonly kind: 'changed' }
  /** A counsellor's console is open again (on instance `at`): hand over what was held for them. */
  | { readonly kind: 'counsellorBack'; readonly name: string; readonly at: string }
  /** A counsellor has gone from every instance: their people go back to the queue. */
  | { readonly kind: 'counsellorLeft'; readonly name: string }
  /** The person is no longer waiting (that ticket) or chatting (that chat). */
  | { readonly kind: 'personDone'; readonly personKey: string; readonly ticket?: string; readonly chatId?: string };

export interface DeskBusHandlers {
  counsellorFrames(name: string, frames: readonly ConsoleFrame[]): void;
  personDelivery(delivery: PersonDelivery): void;
  news(news: DeskNews): void;
}

export interface DeskBus {
  readonly instanceId: string;
  /**
   * Hears the news and this instance's deliveries, and the frames of `counsellors`. Safe to
   * repeat: after Redis was down it subscribes to whatever could not be subscribed then.
   */
  listen(counsellors: readonly string[]): Promise<void>;
  /** How many instances heard it (0: the counsellor has no console open anywhere). */
  toCounsellor(name: string, frames: readonly ConsoleFrame[]): Promise<number>;
  /** False when the home instance is gone. */
  toInstance(instanceId: string, delivery: PersonDelivery): Promise<boolean>;
  announce(news: DeskNews): Promise<void>;
  /** Starts or stops hearing a counsellor's frames on this instance. */
  follow(name: string): Promise<void>;
  unfollow(name: string): void;
  close(): void;
}

const DELIVERY = 'desk.person';
const NEWS = 'desk:news';
const counsellorTopic = (name: string) => `desk:counsellor:${name}`;

export function createDeskBus(bus: InstanceBus, handlers: DeskBusHandlers, log: Logger): DeskBus {
  const following = new Map<string, () => void>();
  let stopNews: (() => void) | undefined;

  // A handler's failure stays with its message: the subscription, and the other messages, go on.
  const guarded =
    <T>(handle: (body: T) => void) =>
    (body: unknown) => {
      try {
        handle(body as T);
      } catch (error) {
        log.error({ event: 'handover.busHandlerFailed', err: error });
      }
    };
  bus.handle(DELIVERY, guarded(handlers.personDelivery));
  const news = guarded(handlers.news);

  async function follow(name: string): Promise<void> {
    if (following.has(name)) return;
    const stop = await bus.subscribe(counsellorTopic(name), guarded((frames: ConsoleFrame[]) => handlers.counsellorFrames(name, frames)));
    // Two follows raced: keep one subscription.
    if (following.has(name)) return stop();
    following.set(name, stop);
  }

  return {
    instanceId: bus.instanceId,
    async listen(counsellors) {
      stopNews ??= await bus.subscribe(NEWS, news);
      for (const name of counsellors) await follow(name);
    },
    toCounsellor: (name, frames) => bus.publish(counsellorTopic(name), frames),
    toInstance: (instanceId, delivery) => bus.tell(instanceId, DELIVERY, delivery),
    async announce(message) {
      await bus.publish(NEWS, message);
    },
    follow,
    unfollow(name) {
      following.get(name)?.();
      following.delete(name);
    },
    close() {
      for (const stop of following.values()) stop();
      following.clear();
      stopNews?.();
      stopNews = undefined;
    },
  };
}
