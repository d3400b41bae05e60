/**
 * The bus between instances (bot/redis/instanceBus.ts) on a real redis-server: questions,
 * answers and tellings in order, a question to an instance that is gone failing at once, a slow or
 * failing answer, gathering from everyone, topics, and listening again by itself after Redis
 * restarts empty.
 */
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { BusError, createInstanceBus, type InstanceBus } from '../../bot/redis/instanceBus.js';
import { captureLog } from '../support/capturedLog.js';
import { describeWithRedis, startRedisServer, type RedisServer } from '../support/redisServer.js';

describeWithRedis('the bus between instances', () => {
  let redis: RedisServer;
  let buses: InstanceBus[] = [];
  const captured = captureLog();

  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterEach(async () => {
    await Promise.all(buses.map((bus) => bus.close()));
    buses = [];
  });
  afterAll(async () => {
    await redis?.stop();
  });

  async function bus(): Promise<InstanceBus> {
    const created = createInstanceBus({ url: redis.url, prefix: 'test:', log: captured.log });
    buses.push(created);
    expect(await created.listening).toBe(true);
    return created;
  }

  async function failure(promise: Promise<unknown>): Promise<string> {
    try {
      await promise;
    } catch (error) {
      return error instanceof BusError ? error.code : String(error);
    }
    return 'answered';
  }

  it('answers questions and hears tellings, those of one sender in the order they were sent', async () => {
    const [asking, answering] = [await bus(), await bus()];
    const heard: number[] = [];
    answering.handle('note', (body, from) => {
      heard.push((body as { n: number }).n);
      return { n: heard.length, from };
    });
    const answers = await Promise.all([...Array(20).keys()].map((n) => asking.request(answering.instanceId, 'note', { n })));
    expect(answers).toEqual([...Array(20).keys()].map((n) => ({ n: n + 1, from: asking.instanceId })));
    for (let n = 20; n < 30; n++) expect(await asking.tell(answering.instanceId, 'note', { n })).toBe(true);
    await asking.request(answering.instanceId, 'note', { n: 30 });
    expect(heard).toEqual([...Array(31).keys()]);
  });

  it('fails at once for an instance nobody listens as, and at the deadline for one that never answers', async () => {
    const [asking, answering] = [await bus(), await bus()];
    const started = Date.now();
    expect(await failure(asking.request('gone-instance', 'anything', {}))).toBe('unreachable');
    expect(Date.now() - started).toBeLessThan(500);
    expect(await asking.tell('gone-instance', 'anything', {})).toBe(false);
    answering.handle('slow', () => new Promise(() => {}));
    expect(await failure(asking.request(answering.instanceId, 'slow', {}, 200))).toBe('timeout');
  });

  it('reports a failing handler as failed, logging an error id and not what it was asked', async () => {
    const [asking, answering] = [await bus(), await bus()];
    answering.handle('broken', () => {
      throw new Error('broken on purpose');
    });
    expect(await failure(asking.request(answering.instanceId, 'broken', { words: 'canary-in-a-question' }))).toBe('failed');
    expect(await failure(asking.request(answering.instanceId, 'unknown-kind', {}))).toBe('failed');
    expect(captured.text()).toMatch(/"event":"bus.handlerFailed","kind":"broken","errorId":"[^"]+"/);
    expect(captured.text()).not.toContain('canary-in-a-question');
  });

  it('gathers the answers of every other instance, one that cannot answer included', async () => {
    const [asking, first, second, silent] = [await bus(), await bus(), await bus(), await bus()];
    void silent;
    first.handle('ids', () => [1, 2]);
    second.handle('ids', () => [3]);
    asking.handle('ids', () => [99]);
    const started = Date.now();
    const answers = await asking.gather<number[]>('ids', {}, 2000);
    // Not waiting out the deadline: three others listened, three answered (one with "no such thing").
    expect(Date.now() - started).toBeLessThan(1000);
    expect(answers.flat().sort()).toEqual([1, 2, 3]);
  });

  it('delivers topics to whoever listens, and listens again by itself after Redis restarts empty', async () => {
    const [publishing, listening] = [await bus(), await bus()];
    listening.handle('ping', () => 'pong');
    const heard: unknown[] = [];
    const stop = await listening.subscribe('news', (body) => heard.push(body));
    expect(await publishing.publish('news', { n: 1 })).toBe(1);

    await redis.kill();
    expect(await failure(publishing.request(listening.instanceId, 'ping', {}))).not.toBe('answered');
    await redis.start();
    const deadline = Date.now() + 10_000;
    while ((await failure(publishing.request(listening.instanceId, 'ping', {}, 500))) !== 'answered') {
      if (Date.now() > deadline) throw new Error('the bus did not listen again');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await publishing.publish('news', { n: 2 })).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(heard).toEqual([{ n: 1 }, { n: 2 }]);
    stop();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await publishing.publish('news', { n: 3 })).toBe(0);
  }, 30_000);

  it('fails what is still waiting when it closes', async () => {
    const [asking, answering] = [await bus(), await bus()];
    answering.handle('slow', () => new Promise(() => {}));
    const waiting = failure(asking.request(answering.instanceId, 'slow', {}, 5000));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await asking.close();
    expect(await waiting).toBe('closed');
  });
});
