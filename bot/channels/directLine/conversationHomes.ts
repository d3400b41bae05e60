/**
 * Which instance holds each Direct Line conversation's delivery buffer (its home), in Redis: one
 * key per conversation, named by a hash of its id and holding an instance id, or a mark that the
 * conversation has ended. Ids only: nothing a person typed, not even the conversation id itself.
 * A home keeps its keys alive while it holds the conversations; a key that names an instance no
 * longer listening is taken over by the next instance that needs the conversation.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** The value of an ended conversation's key, kept as long as its tokens could still be used. */
const ENDED = '-';

export type Home = { readonly kind: 'none' } | { readonly kind: 'ended' } | { readonly kind: 'instance'; readonly instanceId: string };

export interface ConversationHomes {
  /** Who holds the conversation now. */
  lookup(conversationId: string): Promise<Home>;
  /** Makes this instance the home of a new conversation; false when another already is (or it has ended). */
  claim(conversationId: string): Promise<boolean>;
  /** Takes the conversation over from a home that is gone; false when someone else already did. */
  adopt(conversationId: string, from: string): Promise<boolean>;
  /** Keeps this instance's keys alive; returns the ids it no longer holds (taken over or ended elsewhere). */
  renew(conversationIds: readonly string[]): Promise<string[]>;
  /** Marks the conversation ended, for as long as its tokens live. */
  markEnded(conversationId: string): Promise<void>;
}

export interface ConversationHomesOptions {
  readonly redis: Redis;
  readonly keyPrefix: string;
  readonly instanceId: string;
  /** How long a home's key lives without being renewed: a conversation idle this long is over anyway. */
  readonly homeMs: number;
  /** How long an ended conversation stays refused. */
  readonly endedMs: number;
}

// Both compare and write in one step, so two instances can never both believe they won.
const ADOPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end return 0`;
const RENEW = `local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;

/** What names a conversation in Redis keys and channels: a hash, never the id itself. */
export function conversationTag(conversationId: string): string {
  return createHash('sha256').update(conversationId).digest('base64url').slice(0, 32);
}

export function createConversationHomes({ redis, keyPrefix, instanceId, homeMs, endedMs }: ConversationHomesOptions): ConversationHomes {
  const keyOf = (conversationId: string) => `${keyPrefix}dl:home:${conversationTag(conversationId)}`;
  return {
    async lookup(conversationId) {
      const value = await redis.get(keyOf(conversationId));
      if (value === null) return { kind: 'none' };
      if (value === ENDED) return { kind: 'ended' };
      return { kind: 'instance', instanceId: value };
    },
    async claim(conversationId) {
      return (await redis.set(keyOf(conversationId), instanceId, 'PX', homeMs, 'NX')) === 'OK';
    },
    async adopt(conversationId, from) {
      return (await redis.eval(ADOPT, 1, keyOf(conversationId), from, instanceId, homeMs)) === 1;
    },
    async renew(conversationIds) {
      if (conversationIds.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const id of conversationIds) pipeline.eval(RENEW, 1, keyOf(id), instanceId, homeMs);
      const results = (await pipeline.exec()) ?? [];
      const lost: string[] = [];
      results.forEach(([error, held], index) => {
        if (error) throw error;
        if (held !== 1) lost.push(conversationIds[index]!);
      });
      return lost;
    },
    async markEnded(conversationId) {
      await redis.set(keyOf(conversationId), ENDED, 'PX', endedMs);
    },
  };
}
