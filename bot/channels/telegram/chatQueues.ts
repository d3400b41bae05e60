/**
 * One queue per chat: work for a chat runs in the order it arrived, one task at a time, while
 * other chats run alongside. A task that fails or waits (a rate limit) holds up its own chat
 * only. Queues exist only while they have work, so memory follows the number of busy chats.
 */
export class ChatQueues {
  private readonly queues = new Map<number, { tail: Promise<void>; waiting: number }>();

  /** @param maxWaiting how many tasks one chat may have waiting; more are refused (a flood). */
  constructor(private readonly maxWaiting = Number.POSITIVE_INFINITY) {}

  /**
   * Runs `task` after the chat's earlier tasks and resolves (or rejects) with its result. Throws
   * ChatQueueFull, without running it, when the chat already has too much waiting.
   */
  run<T>(chatId: number, task: () => Promise<T>): Promise<T> {
    const queue = this.queues.get(chatId) ?? { tail: Promise.resolve(), waiting: 0 };
    if (queue.waiting >= this.maxWaiting) return Promise.reject(new ChatQueueFull());
    queue.waiting += 1;
    this.queues.set(chatId, queue);
    const result = queue.tail.then(task);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    queue.tail = settled;
    void settled.then(() => {
      queue.waiting -= 1;
      if (queue.waiting === 0 && this.queues.get(chatId) === queue) this.queues.delete(chatId);
    });
    return result;
  }

  /** Resolves once every task queued so far (and any they queue) has finished: in one chat if given, else in all. */
  async idle(chatId?: number): Promise<void> {
    if (chatId === undefined) {
      while (this.queues.size > 0) await Promise.all([...this.queues.values()].map((queue) => queue.tail));
      return;
    }
    for (let queue = this.queues.get(chatId); queue; queue = this.queues.get(chatId)) await queue.tail;
  }
}

export class ChatQueueFull extends Error {
  readonly code = 'TELEGRAM_CHAT_QUEUE_FULL';
}
