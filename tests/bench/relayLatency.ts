/**
 * Relay latency, counsellor -> person, with 50 live chats at once on one instance: from the
 * counsellor's WebSocket frame leaving the console to the message arriving at the person's
 * channel (a connector on loopback, as Azure's would be). Target: p99 <= 20 ms.
 *
 * With --redis: the same across two instances sharing a redis-server of its own, people on one
 * and counsellors on the other, so every message goes through Redis. Target: p99 <= 50 ms.
 *
 *   npx tsx tests/bench/relayLatency.ts           (also part of npm run bench)
 *   npx tsx tests/bench/relayLatency.ts --redis   (needs redis-server installed)
 *
 * Prints a table and writes bench/results/relay-latency.json (relay-latency-redis.json with
 * --redis). Everything runs on 127.0.0.1 and stops by itself.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startRig, type Counsellor, type Person } from '../support/liveChatRig.js';
import { startLiveChatAcrossInstances } from './support/liveChatAcrossInstances.js';

const CHATS = 50;
const COUNSELLORS = 10;
const MESSAGES_PER_CHAT = 20;
const WARM_UP_PER_CHAT = 3;
const ACROSS_INSTANCES = process.argv.includes('--redis');
const TARGET_P99_MS = ACROSS_INSTANCES ? 50 : 20;
/**
 * Each chat sends one message every this many ms, at a random phase: 100 messages a second in
 * all, far faster than 50 people typing, yet not a flood that measures queueing instead of relay.
 */
const PACE_MS = 500;

const staff = Array.from({ length: COUNSELLORS }, (_, i) => ({ name: `Counsellor${String.fromCharCode(65 + i)}`, role: 'counsellor' as const }));
const rig = ACROSS_INSTANCES ? await startLiveChatAcrossInstances(staff) : await startRig(staff, { LOG_LEVEL: 'warn' });

// The rig's fake connector stores each reply as it lands; stamping the push times the arrival.
const arrivals = new Map<string, (at: number) => void>();
const received = rig.connector.received;
const push = received.push.bind(received);
received.push = (...items) => {
  const at = performance.now();
  for (const item of items) {
    const match = /bench-(\d+-\d+)/.exec(item.text ?? '');
    if (match) arrivals.get(match[1]!)?.(at);
  }
  return push(...items);
};

try {
  const counsellors: Counsellor[] = [];
  for (const member of staff) {
    const counsellor = await rig.counsellor(member.name);
    await counsellor.next('hello');
    counsellor.send({ type: 'availability', available: true });
    counsellors.push(counsellor);
  }

  const people: Person[] = [];
  for (let i = 0; i < CHATS; i++) {
    const person = rig.person(`bench-conv-${i}`);
    await person.join();
    await person.say('Yes, continue');
    await person.say('talk to a person');
    await person.say('Yes, find me a counsellor');
    people.push(person);
  }

  // Each counsellor takes the next waiting person until every chat is live.
  const chatIds: string[] = [];
  for (let i = 0; i < CHATS; i++) {
    const counsellor = counsellors[i % COUNSELLORS]!;
    while (counsellor.latestQueue().length !== CHATS - i) await new Promise((r) => setTimeout(r, 5));
    const [next] = counsellor.latestQueue();
    counsellor.send({ type: 'accept', ticket: next!.ticket });
    chatIds.push((await counsellor.next('chat.opened')).chat.chatId);
  }
  await Promise.all(people.map((p) => p.waitForText(/has joined/)));

  const samples: number[] = [];
  const started = performance.now();
  await Promise.all(
    chatIds.map(async (chatId, chat) => {
      const counsellor = counsellors[chat % COUNSELLORS]!;
      await sleep(Math.random() * PACE_MS);
      for (let n = 0; n < WARM_UP_PER_CHAT + MESSAGES_PER_CHAT; n++) {
        const key = `${chat}-${n}`;
        const arrived = new Promise<number>((resolve) => arrivals.set(key, resolve));
        const sent = performance.now();
        counsellor.send({ type: 'message', chatId, text: `Thanks for telling me. bench-${key}`, ref: key });
        const at = await arrived;
        arrivals.delete(key);
        if (n >= WARM_UP_PER_CHAT) samples.push(at - sent);
        await sleep(Math.max(0, PACE_MS - (performance.now() - sent)));
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;

  samples.sort((a, b) => a - b);
  const pct = (p: number) => samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))]!;
  const result = {
    date: new Date().toISOString(),
    instances: ACROSS_INSTANCES ? 'two, via Redis (people on one, counsellors on the other)' : 'one',
    liveChats: CHATS,
    counsellors: COUNSELLORS,
    messages: samples.length,
    messagesPerSecond: Math.round((samples.length * (1 + WARM_UP_PER_CHAT / MESSAGES_PER_CHAT)) / seconds),
    paceMsPerChat: PACE_MS,
    p50Ms: round(pct(50)),
    p90Ms: round(pct(90)),
    p99Ms: round(pct(99)),
    maxMs: round(samples.at(-1)!),
    targetP99Ms: TARGET_P99_MS,
    met: pct(99) <= TARGET_P99_MS,
  };
  console.log(`\nrelay latency counsellor -> person${ACROSS_INSTANCES ? ' across two instances via Redis' : ''}, ${CHATS} live chats, ${samples.length} messages`);
  console.log('  p50 ms   p90 ms   p99 ms   max ms   msg/s   target p99');
  console.log(
    `  ${String(result.p50Ms).padEnd(9)}${String(result.p90Ms).padEnd(9)}${String(result.p99Ms).padEnd(9)}${String(result.maxMs).padEnd(9)}${String(result.messagesPerSecond).padEnd(8)}<= ${TARGET_P99_MS} ${result.met ? 'met' : 'MISSED'}`,
  );
  const dir = path.resolve('bench/results');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, ACROSS_INSTANCES ? 'relay-latency-redis.json' : 'relay-latency.json'), `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await rig.close();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
