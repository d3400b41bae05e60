/**
 * The people waiting for a counsellor, in the order they should be answered: anyone put back
 * at the front (their counsellor's connection dropped) first, then by priority, then whoever
 * has waited longest. Memory only: a queue entry holds no words, and a restart empties it.
 */
import { PRIORITIES, priorityOf, type ContextCard, type Priority } from './contextCard.js';

export interface QueueEntry<T> {
  readonly ticket: string;
  readonly card: ContextCard;
  readonly priority: Priority;
  /** Set when someone lost their counsellor: they go before everyone else. */
  readonly atFront: boolean;
  /** Whatever the desk keeps with the entry (how to reach the person). */
  readonly holder: T;
}

export class WaitingQueue<T> {
  private readonly entries = new Map<string, QueueEntry<T>>();
  private cached: QueueEntry<T>[] | undefined;

  add(ticket: string, card: ContextCard, holder: T, { atFront = false } = {}): QueueEntry<T> {
    const entry = Object.freeze({ ticket, card, priority: priorityOf(card.reason), atFront, holder });
    this.entries.set(ticket, entry);
    this.cached = undefined;
    return entry;
  }

  remove(ticket: string): QueueEntry<T> | undefined {
    const entry = this.entries.get(ticket);
    if (entry) {
      this.entries.delete(ticket);
      this.cached = undefined;
    }
    return entry;
  }

  get(ticket: string): QueueEntry<T> | undefined {
    return this.entries.get(ticket);
  }

  get length(): number {
    return this.entries.size;
  }

  /** 1 for the next person to be answered. */
  position(ticket: string): number | undefined {
    const index = this.ordered().findIndex((entry) => entry.ticket === ticket);
    return index < 0 ? undefined : index + 1;
  }

  ordered(): readonly QueueEntry<T>[] {
    this.cached ??= [...this.entries.values()].sort(compareEntries);
    return this.cached;
  }
}

function compareEntries<T>(a: QueueEntry<T>, b: QueueEntry<T>): number {
  if (a.atFront !== b.atFront) return a.atFront ? -1 : 1;
  const byPriority = PRIORITIES.indexOf(a.priority) - PRIORITIES.indexOf(b.priority);
  return byPriority !== 0 ? byPriority : a.card.queuedAt - b.card.queuedAt;
}
