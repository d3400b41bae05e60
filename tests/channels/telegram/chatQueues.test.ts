import { describe, expect, it } from '@jest/globals';
import { ChatQueues } from '../../../bot/channels/telegram/chatQueues.js';

/** A task that runs until `finish` is called. */
function held(): { task: () => Promise<void>; finish: () => void; started: Promise<void> } {
  let finish!: () => void;
  let markStarted!: () => void;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    task: async () => {
      markStarted();
      await done;
    },
    finish,
    started,
  };
}

/** Whether `promise` has settled once pending callbacks and timers have had their turn. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setTimeout(resolve, 20));
  return done;
}

describe('ChatQueues.idle', () => {
  it('for one chat waits for that chat only: another chat still busy does not hold it back', async () => {
    const queues = new ChatQueues();
    const busy = held();
    const quick = held();
    void queues.run(1, busy.task);
    void queues.run(2, quick.task);
    await Promise.all([busy.started, quick.started]);

    const chatTwo = queues.idle(2);
    expect(await settled(chatTwo)).toBe(false);
    quick.finish();
    expect(await settled(chatTwo)).toBe(true);
    expect(await settled(queues.idle())).toBe(false);
    busy.finish();
    expect(await settled(queues.idle())).toBe(true);
  });

  it('for one chat also waits for tasks queued in that chat while it waits, and for a failed task', async () => {
    const queues = new ChatQueues();
    const first = held();
    const second = held();
    queues.run(3, first.task).catch(() => undefined);
    await first.started;
    const idle = queues.idle(3);
    const failing = queues.run(3, () => Promise.reject(new Error('refused')));
    void queues.run(3, second.task);
    first.finish();
    await expect(failing).rejects.toThrow('refused');
    await second.started;
    expect(await settled(idle)).toBe(false);
    second.finish();
    expect(await settled(idle)).toBe(true);
  });

  it('resolves at once for a chat with nothing queued', async () => {
    expect(await settled(new ChatQueues().idle(4))).toBe(true);
  });
});
