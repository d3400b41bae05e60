/**
 * Telegram with two Waypoint processes on one Redis, against the fake Bot API. Polling: only the
 * instance holding the lease polls, never two at once, and when it stops the other takes over
 * and the person's conversation goes on. Webhook: updates are spread over both instances by a
 * balancer, "delete my data" deletes the messages either instance sent or took in, and nothing
 * typed (nor the chat id) is in Redis.
 */
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadContent } from '../../bot/content/loadContent.js';
import type { Messages } from '../../bot/content/schema.js';
import { REPO_ROOT } from '../support/botHarness.js';
import { FAKE_TOKEN, FakeTelegramApi } from '../support/fakeTelegramApi.js';
import { everythingInRedis } from '../support/redisContents.js';
import { describeWithRedis, startRedisServer, type RedisServer } from '../support/redisServer.js';
import { startRoundRobinProxy, type RoundRobinProxy } from '../support/roundRobinProxy.js';
import { finishedByLogLines, TelegramPerson } from '../support/telegramRig.js';
import { ALWAYS_OPEN } from '../support/testConfig.js';
import { startWaypointProcess, type WaypointProcess } from '../support/waypointProcess.js';

const HOOK_PATH = '/telegram/hook-scale';
const HOOK_SECRET = 'a-webhook-secret-for-the-scale-out-test';
const LEASE_TAKEN = '"event":"telegram.leaseTaken"';
const asList = (text: string | readonly string[]) => (Array.isArray(text) ? [...text] : [text as string]);

describeWithRedis('Telegram across two instances', () => {
  let redis: RedisServer;
  let messages: Messages;
  let api: FakeTelegramApi;
  let instances: WaypointProcess[] = [];
  let proxy: RoundRobinProxy | undefined;
  const dataDirs: string[] = [];
  const secret = randomBytes(24).toString('base64url');

  beforeAll(async () => {
    redis = await startRedisServer();
    messages = (await loadContent(path.join(REPO_ROOT, 'resources/content'), { defaultLocale: 'en' })).forLocale('en').messages;
  });

  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    await Promise.all(instances.map((instance) => instance.stop()));
    instances = [];
    await api?.close();
  }, 30_000);

  afterAll(async () => {
    await redis?.stop();
    for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
  });

  async function startInstances(env: Record<string, string>): Promise<void> {
    api = await FakeTelegramApi.start();
    // Each test its own keys, so a lease left by the last test's instances is not in the way.
    const prefix = `t${dataDirs.length}:`;
    for (let i = 0; i < 2; i++) {
      const dataDir = await mkdtemp(path.join(os.tmpdir(), `waypoint-tg-scale-${i}-`));
      dataDirs.push(dataDir);
      instances.push(
        await startWaypointProcess({
          REDIS_URL: redis.url,
          REDIS_KEY_PREFIX: prefix,
          PSEUDONYM_SECRET: secret,
          DATA_DIR: dataDir,
          HANDOVER_FILE: ALWAYS_OPEN,
          PRIVACY_GUARD: 'throw',
          // The channel logs each update it has finished with at debug level: the person waits for that.
          LOG_LEVEL: 'debug',
          TELEGRAM_BOT_TOKEN: FAKE_TOKEN,
          TELEGRAM_API_ROOT: api.apiRoot,
          ...env,
        }),
      );
    }
  }

  function handledBy(instance: WaypointProcess): number {
    return instance.output().match(/"event":"telegram\.update(Handled|Failed)"/g)?.length ?? 0;
  }

  function person(chatId: number): TelegramPerson {
    // Counted over both instances (a stopped one's output stays readable).
    const all = [...instances];
    return new TelegramPerson(api, chatId, 'en', finishedByLogLines(api, () => all.reduce((sum, instance) => sum + handledBy(instance), 0)));
  }

  async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('polls from one instance only, and the other takes over when it stops', async () => {
    await startInstances({});
    await until(() => instances.some((instance) => instance.output().includes(LEASE_TAKEN)), 'an instance to take the polling lease');
    const someone = person(7001);
    expect(await someone.say('/start')).toContain(messages.consent.question);
    const holders = instances.filter((instance) => instance.output().includes(LEASE_TAKEN));
    expect(holders).toHaveLength(1);
    const [holder] = holders;
    const other = instances.find((instance) => instance !== holder)!;
    expect(handledBy(other)).toBe(0);

    expect(await holder!.stop()).toBe(0);
    // Given back at shutdown, the lease is taken at once, not when it would have lapsed.
    await until(() => other.output().includes(LEASE_TAKEN), 'the other instance to take the lease over', 5000);
    // The conversation goes on where it was: its state is in Redis.
    expect(await someone.press(messages.consent.agree)).toContain(messages.menu.prompt);
    expect(handledBy(other)).toBeGreaterThan(0);
    expect(api.maxOpenPolls).toBe(1);
  }, 60_000);

  it('spreads webhook updates over both instances, and "delete my data" deletes what either one sent or took in', async () => {
    await startInstances({ TELEGRAM_WEBHOOK_URL: `https://chat.example.org${HOOK_PATH}`, TELEGRAM_WEBHOOK_SECRET: HOOK_SECRET });
    proxy = await startRoundRobinProxy(instances.map((instance) => instance.url));
    api.deliverWebhookTo(`${proxy.url}${HOOK_PATH}`);
    const someone = person(918_273_645_546);
    expect(await someone.say('/start')).toContain(messages.consent.question);
    expect(await someone.press(messages.consent.agree)).toContain(messages.menu.prompt);
    await someone.say('/help');
    const marker = randomBytes(6).toString('hex');
    await someone.say(`canary ${marker} typed in a chat spread over two instances`);
    expect(await someone.say('/forget')).toEqual(asList(messages.deleteData.confirmPrompt));
    for (const instance of instances) expect(handledBy(instance)).toBeGreaterThan(0);
    const before = api.messages(someone.chatId).length;
    const after = await someone.press(messages.deleteData.confirm);
    expect(after).toEqual([...asList(messages.deleteData.done), ...asList(messages.telegram.forget.deleted), ...asList(messages.telegram.forget.limits)]);
    const chat = api.messages(someone.chatId);
    // Everything up to the confirmation is gone from the phone, whichever instance saw it.
    expect(chat.slice(0, before).filter((m) => !m.deleted)).toEqual([]);
    expect(chat.slice(before).every((m) => !m.deleted)).toBe(true);
    expect(api.maxOpenPolls).toBe(0);
    // Neither the words nor the raw chat id went into Redis.
    const { text } = await everythingInRedis(redis.url);
    expect(text).not.toContain(marker);
    expect(text).not.toContain(String(someone.chatId));
  }, 60_000);
});
