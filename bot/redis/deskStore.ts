/**
 * The handover desk's shared state in Redis, for several Waypoint instances: who waits (a sorted
 * set scored by band, then the time they joined), who is in which live chat, which counsellors
 * are online where (entries that expire unless renewed), and which instances are alive. Every
 * change that two instances could race on is one Lua script, so one person can never be given to
 * two counsellors. Nothing here holds words: records are ids, pseudonymous keys, names of staff
 * and the structured context card. Messages travel on deskBus.ts and are never stored.
 */
import type { Redis } from 'ioredis';
import { PRIORITIES, type ContextCard, type Priority } from '../handover/contextCard.js';

/** A place in the queue, as every instance sees it. */
export interface TicketRecord {
  readonly ticket: string;
  /** The conversation's pseudonym; never a channel id. */
  readonly personKey: string;
  readonly card: ContextCard;
  readonly priority: Priority;
  /** Put back at the front after their counsellor's connection dropped. */
  readonly atFront: boolean;
}

export interface ChatRecord {
  readonly chatId: string;
  readonly counsellor: string;
  readonly connectedAt: number;
  /** The ticket the chat was accepted from: who the person is and their context card. */
  readonly ticket: TicketRecord;
}

/** The instance that holds the person's link (it can reach their conversation) is their home. */
export type PersonState =
  | { readonly state: 'none' }
  | { readonly state: 'queued'; readonly ticket: string; readonly rank: number; readonly home: string }
  | { readonly state: 'connected'; readonly chatId: string; readonly counsellor: string; readonly home: string };

export type EnqueueResult =
  | { readonly state: 'added'; readonly rank: number }
  /** Already waiting: their ticket (undefined if Redis lost it), and the instance that held their link. */
  | { readonly state: 'queued'; readonly ticket: TicketRecord | undefined; readonly previousHome: string; readonly rank: number }
  | { readonly state: 'connected'; readonly chatId: string; readonly counsellor: string };

export interface CounsellorRecord {
  readonly role: 'counsellor' | 'supervisor';
  readonly available: boolean;
}

/** The whole desk at one moment, read in one transaction. */
export interface DeskSnapshot {
  /** In the order people will be answered. */
  readonly queue: readonly TicketRecord[];
  readonly chats: readonly ChatRecord[];
  /** Names of counsellors with a console open (or reconnecting) on a live instance. */
  readonly online: ReadonlySet<string>;
  readonly counsellors: ReadonlyMap<string, CounsellorRecord>;
  /** Lengths in minutes of the most recent chats. */
  readonly recentChatMinutes: readonly number[];
}

/** Chat lengths remembered for wait estimates. */
const RECENT_CHATS = 20;

/** Lower scores are answered first: band (put back at the front, then priority), then time. */
function queueScore(ticket: TicketRecord): number {
  const band = (ticket.atFront ? 0 : PRIORITIES.length) + PRIORITIES.indexOf(ticket.priority);
  // 1e13 ms is about 300 years past 1970: times never reach the next band, and 8 bands stay exact in a double.
  return band * 1e13 + ticket.card.queuedAt;
}

const SCRIPTS = {
  // KEYS queue tickets people; ARGV personKey ticketId score ticketJson home
  deskEnqueue: `
    local existing = redis.call('HGET', KEYS[3], ARGV[1])
    if existing then
      local p = cjson.decode(existing)
      if p.ticket then
        local previous = p.home
        if previous ~= ARGV[5] then
          p.home = ARGV[5]
          redis.call('HSET', KEYS[3], ARGV[1], cjson.encode(p))
        end
        return {'queued', redis.call('HGET', KEYS[2], p.ticket) or '', previous, redis.call('ZRANK', KEYS[1], p.ticket) or -1}
      end
      return {'connected', p.chatId, p.counsellor, -1}
    end
    redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
    redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
    redis.call('HSET', KEYS[3], ARGV[1], cjson.encode({home = ARGV[5], ticket = ARGV[2]}))
    return {'added', ARGV[2], ARGV[5], redis.call('ZRANK', KEYS[1], ARGV[2])}`,
  // KEYS queue people; ARGV personKey
  deskStatus: `
    local existing = redis.call('HGET', KEYS[2], ARGV[1])
    if not existing then return {'none'} end
    local p = cjson.decode(existing)
    if p.ticket then return {'queued', p.ticket, redis.call('ZRANK', KEYS[1], p.ticket) or -1, p.home} end
    return {'connected', p.chatId, p.counsellor, p.home}`,
  // KEYS queue tickets people; ARGV personKey expectedTicket('' for any)
  deskLeave: `
    local existing = redis.call('HGET', KEYS[3], ARGV[1])
    if not existing then return false end
    local p = cjson.decode(existing)
    if not p.ticket or (ARGV[2] ~= '' and p.ticket ~= ARGV[2]) then return false end
    redis.call('ZREM', KEYS[1], p.ticket)
    local ticket = redis.call('HGET', KEYS[2], p.ticket)
    redis.call('HDEL', KEYS[2], p.ticket)
    redis.call('HDEL', KEYS[3], ARGV[1])
    return {ticket or '', p.home}`,
  // KEYS queue tickets people chats; ARGV ticketId chatId counsellor connectedAt
  // The ZREM decides: whichever instance removes the ticket first has the chat.
  deskAccept: `
    if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return false end
    local ticket = redis.call('HGET', KEYS[2], ARGV[1])
    redis.call('HDEL', KEYS[2], ARGV[1])
    if not ticket then return false end
    local personKey = cjson.decode(ticket).personKey
    local person = redis.call('HGET', KEYS[3], personKey)
    if not person then return false end
    local home = cjson.decode(person).home
    redis.call('HSET', KEYS[3], personKey, cjson.encode({home = home, chatId = ARGV[2], counsellor = ARGV[3]}))
    local chat = '{"chatId":' .. cjson.encode(ARGV[2]) .. ',"counsellor":' .. cjson.encode(ARGV[3]) .. ',"connectedAt":' .. ARGV[4] .. ',"ticket":' .. ticket .. '}'
    redis.call('HSET', KEYS[4], ARGV[2], chat)
    return {chat, home}`,
  // KEYS chats people; ARGV chatId
  deskRoute: `
    local chat = redis.call('HGET', KEYS[1], ARGV[1])
    if not chat then return false end
    local person = redis.call('HGET', KEYS[2], cjson.decode(chat).ticket.personKey)
    local home = ''
    if person then home = cjson.decode(person).home end
    return {chat, home}`,
  // KEYS chats people; ARGV chatId counsellor('' for any)
  deskEndChat: `
    local chat = redis.call('HGET', KEYS[1], ARGV[1])
    if not chat then return false end
    local c = cjson.decode(chat)
    if ARGV[2] ~= '' and c.counsellor ~= ARGV[2] then return false end
    redis.call('HDEL', KEYS[1], ARGV[1])
    local personKey = c.ticket.personKey
    local person = redis.call('HGET', KEYS[2], personKey)
    local home = ''
    if person then
      local p = cjson.decode(person)
      home = p.home
      if p.chatId == ARGV[1] then redis.call('HDEL', KEYS[2], personKey) end
    end
    return {chat, home}`,
  // KEYS queue tickets people chats; ARGV chatId ticketId score ticketJson personKey home
  deskRequeue: `
    if redis.call('HDEL', KEYS[4], ARGV[1]) == 0 then return false end
    redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
    redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
    redis.call('HSET', KEYS[3], ARGV[5], cjson.encode({home = ARGV[6], ticket = ARGV[2]}))
    return redis.call('ZRANK', KEYS[1], ARGV[2])`,
  // KEYS people chats; ARGV personKey chatId chatJson home: a live chat, written again after Redis lost it
  deskRestoreChat: `
    if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 or redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then return 0 end
    local c = cjson.decode(ARGV[3])
    redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
    redis.call('HSET', KEYS[1], ARGV[1], cjson.encode({home = ARGV[4], chatId = ARGV[2], counsellor = c.counsellor}))
    return 1`,
  // KEYS queue tickets people chats instances; ARGV instanceId: forgets the people of an instance that died
  deskPurgeHome: `
    local removed = {}
    local people = redis.call('HGETALL', KEYS[3])
    for i = 1, #people, 2 do
      local p = cjson.decode(people[i + 1])
      if p.home == ARGV[1] then
        redis.call('HDEL', KEYS[3], people[i])
        if p.ticket then
          redis.call('ZREM', KEYS[1], p.ticket)
          redis.call('HDEL', KEYS[2], p.ticket)
        elseif p.chatId then
          local chat = redis.call('HGET', KEYS[4], p.chatId)
          if chat then
            redis.call('HDEL', KEYS[4], p.chatId)
            table.insert(removed, chat)
          end
        end
      end
    end
    redis.call('ZREM', KEYS[5], ARGV[1])
    return removed`,
} as const;

type ScriptName = keyof typeof SCRIPTS;
type ScriptRunner = (...args: (string | number)[]) => Promise<unknown>;

export interface DeskStore {
  /** True while commands can be sent; false while Redis is down or still connecting. */
  readonly ready: boolean;
  enqueue(ticket: TicketRecord, home: string): Promise<EnqueueResult>;
  personState(personKey: string): Promise<PersonState>;
  /** Takes the person out of the queue (only that ticket, when given); undefined when they were not waiting. */
  leave(personKey: string, expectedTicket?: string): Promise<{ ticket: TicketRecord | undefined; home: string } | undefined>;
  /** The chat, when this call won the ticket; undefined when someone else did or it is gone. */
  accept(ticket: string, chatId: string, counsellor: string, connectedAt: number): Promise<{ chat: ChatRecord; home: string } | undefined>;
  /** A live chat and its person's home. */
  route(chatId: string): Promise<{ chat: ChatRecord; home: string } | undefined>;
  /** Ends the chat (only if it is `counsellor`'s, when given); undefined when it was not there. */
  endChat(chatId: string, counsellor?: string): Promise<{ chat: ChatRecord; home: string } | undefined>;
  /** Turns a live chat back into a place in the queue; the rank, or undefined when the chat had ended. */
  requeue(chatId: string, ticket: TicketRecord, home: string): Promise<number | undefined>;
  restoreChat(chat: ChatRecord, home: string): Promise<boolean>;
  snapshot(): Promise<DeskSnapshot>;
  /** Renews this instance and the counsellors online on it; they expire at `expiresAt` unless renewed. */
  heartbeat(instanceId: string, counsellors: readonly string[], expiresAt: number): Promise<void>;
  dropPresence(instanceId: string, counsellor: string): Promise<void>;
  online(): Promise<ReadonlySet<string>>;
  counsellor(name: string): Promise<CounsellorRecord | undefined>;
  setCounsellor(name: string, record: CounsellorRecord): Promise<void>;
  forgetCounsellor(name: string): Promise<void>;
  /** Instances whose heartbeat has lapsed. */
  deadInstances(): Promise<string[]>;
  /** Forgets the queue places and chats of a dead instance's people; returns the chats that ended. */
  purgeHome(instanceId: string): Promise<ChatRecord[]>;
  recordChatMinutes(minutes: number): Promise<void>;
  /**
   * An id for this life of the Redis data: it changes when Redis restarts empty, which tells
   * instances to write back what they know.
   */
  epoch(candidate: string): Promise<string>;
}

interface DeskKeys {
  readonly queue: string;
  readonly tickets: string;
  readonly people: string;
  readonly chats: string;
  readonly presence: string;
  readonly counsellors: string;
  readonly instances: string;
  readonly recentChats: string;
  readonly epoch: string;
}

function deskKeys(prefix: string): DeskKeys {
  const p = `${prefix}desk:`;
  return {
    queue: `${p}queue`,
    tickets: `${p}tickets`,
    people: `${p}people`,
    chats: `${p}chats`,
    presence: `${p}presence`,
    counsellors: `${p}counsellors`,
    instances: `${p}instances`,
    recentChats: `${p}recentChats`,
    epoch: `${p}epoch`,
  };
}

/** `redis` is a command connection from connectRedis; the clock is wall time (presence is liveness, not business). */
export function createDeskStore(redis: Redis, prefix: string, now: () => number = Date.now): DeskStore {
  const k = deskKeys(prefix);
  for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { lua });
  const run = (name: ScriptName, keys: string[], ...args: (string | number)[]) =>
    (redis as unknown as Record<ScriptName, ScriptRunner>)[name](keys.length, ...keys, ...args);

  return {
    get ready() {
      return redis.status === 'ready';
    },

    async enqueue(ticket, home) {
      const reply = (await run('deskEnqueue', [k.queue, k.tickets, k.people], ticket.personKey, ticket.ticket, queueScore(ticket), JSON.stringify(ticket), home)) as [string, string, string, number];
      const [state, second, third, rank] = reply;
      if (state === 'added') return { state, rank };
      if (state === 'queued') return { state, ticket: second ? (JSON.parse(second) as TicketRecord) : undefined, previousHome: third, rank };
      return { state: 'connected', chatId: second, counsellor: third };
    },

    async personState(personKey) {
      const reply = (await run('deskStatus', [k.queue, k.people], personKey)) as (string | number)[];
      if (reply[0] === 'queued') return { state: 'queued', ticket: String(reply[1]), rank: Number(reply[2]), home: String(reply[3]) };
      if (reply[0] === 'connected') return { state: 'connected', chatId: String(reply[1]), counsellor: String(reply[2]), home: String(reply[3]) };
      return { state: 'none' };
    },

    async leave(personKey, expectedTicket = '') {
      const reply = (await run('deskLeave', [k.queue, k.tickets, k.people], personKey, expectedTicket)) as [string, string] | null;
      if (!reply) return undefined;
      return { ticket: reply[0] ? (JSON.parse(reply[0]) as TicketRecord) : undefined, home: reply[1] };
    },

    async accept(ticket, chatId, counsellor, connectedAt) {
      const reply = (await run('deskAccept', [k.queue, k.tickets, k.people, k.chats], ticket, chatId, counsellor, Math.round(connectedAt))) as [string, string] | null;
      return reply ? { chat: JSON.parse(reply[0]) as ChatRecord, home: reply[1] } : undefined;
    },

    async route(chatId) {
      const reply = (await run('deskRoute', [k.chats, k.people], chatId)) as [string, string] | null;
      return reply ? { chat: JSON.parse(reply[0]) as ChatRecord, home: reply[1] } : undefined;
    },

    async endChat(chatId, counsellor = '') {
      const reply = (await run('deskEndChat', [k.chats, k.people], chatId, counsellor)) as [string, string] | null;
      return reply ? { chat: JSON.parse(reply[0]) as ChatRecord, home: reply[1] } : undefined;
    },

    async requeue(chatId, ticket, home) {
      const rank = (await run('deskRequeue', [k.queue, k.tickets, k.people, k.chats], chatId, ticket.ticket, queueScore(ticket), JSON.stringify(ticket), ticket.personKey, home)) as number | null;
      return rank === null ? undefined : rank;
    },

    async restoreChat(chat, home) {
      return (await run('deskRestoreChat', [k.people, k.chats], chat.ticket.personKey, chat.chatId, JSON.stringify(chat), home)) === 1;
    },

    async snapshot() {
      const replies = await redis
        .multi()
        .zrange(k.queue, '0', '-1')
        .hgetall(k.tickets)
        .hgetall(k.chats)
        .zrangebyscore(k.presence, String(now()), '+inf')
        .hgetall(k.counsellors)
        .lrange(k.recentChats, '0', '-1')
        .exec();
      if (!replies) throw new Error('the desk snapshot transaction was aborted');
      const [queue, tickets, chats, presence, counsellors, recent] = replies.map(([error, value]) => {
        if (error) throw error;
        return value;
      }) as [string[], Record<string, string>, Record<string, string>, string[], Record<string, string>, string[]];
      return {
        queue: queue.flatMap((ticket) => (tickets[ticket] ? [JSON.parse(tickets[ticket]) as TicketRecord] : [])),
        chats: Object.values(chats).map((chat) => JSON.parse(chat) as ChatRecord),
        online: namesOf(presence),
        counsellors: new Map(Object.entries(counsellors).map(([name, record]) => [name, JSON.parse(record) as CounsellorRecord])),
        recentChatMinutes: recent.map(Number).filter(Number.isFinite),
      };
    },

    async heartbeat(instanceId, counsellors, expiresAt) {
      const batch = redis.multi().zadd(k.instances, expiresAt, instanceId);
      for (const name of counsellors) batch.zadd(k.presence, expiresAt, presenceMember(instanceId, name));
      batch.zremrangebyscore(k.presence, '-inf', String(now()));
      await batch.exec();
    },

    async dropPresence(instanceId, counsellor) {
      await redis.zrem(k.presence, presenceMember(instanceId, counsellor));
    },

    async online() {
      return namesOf(await redis.zrangebyscore(k.presence, String(now()), '+inf'));
    },

    async counsellor(name) {
      const record = await redis.hget(k.counsellors, name);
      return record ? (JSON.parse(record) as CounsellorRecord) : undefined;
    },

    async setCounsellor(name, record) {
      await redis.hset(k.counsellors, name, JSON.stringify({ role: record.role, available: record.available }));
    },

    async forgetCounsellor(name) {
      await redis.hdel(k.counsellors, name);
    },

    async deadInstances() {
      return redis.zrangebyscore(k.instances, '-inf', String(now()));
    },

    async purgeHome(instanceId) {
      const removed = (await run('deskPurgeHome', [k.queue, k.tickets, k.people, k.chats, k.instances], instanceId)) as string[];
      return removed.map((chat) => JSON.parse(chat) as ChatRecord);
    },

    async recordChatMinutes(minutes) {
      await redis.multi().lpush(k.recentChats, minutes.toFixed(2)).ltrim(k.recentChats, 0, RECENT_CHATS - 1).exec();
    },

    async epoch(candidate) {
      await redis.set(k.epoch, candidate, 'NX');
      return (await redis.get(k.epoch)) ?? candidate;
    },
  };
}

// Staff names cannot contain "|" (staffAccounts.ts allows letters, digits, spaces, hyphens and apostrophes).
function presenceMember(instanceId: string, name: string): string {
  return `${instanceId}|${name}`;
}

function namesOf(members: readonly string[]): Set<string> {
  return new Set(members.map((member) => member.slice(member.indexOf('|') + 1)));
}
