/**
 * A person's words that found no console open (their counsellor is reconnecting), kept in memory
 * only, for a short while, so a page reload does not lose them. Never written to Redis.
 */
import type { ConsoleFrame } from '../consoleFrames.js';

/** Most messages a reconnecting counsellor can be owed; more would mean they are not coming back. */
const MAX_HELD = 50;
/** Held words are dropped after this long: by then the chat has gone back to the queue. */
const HOLD_MS = 60_000;
/** Only frames that carry the person's side of the chat are held for a reconnecting console. */
const HELD_TYPES = new Set<ConsoleFrame['type']>(['message', 'risk']);

/** Adds to `into` what is worth holding, up to the limit. */
export function keepWhileAway(into: ConsoleFrame[], frames: readonly ConsoleFrame[]): void {
  for (const frame of frames) if (HELD_TYPES.has(frame.type) && into.length < MAX_HELD) into.push(frame);
}

interface Held {
  readonly counsellor: string;
  readonly frames: ConsoleFrame[];
  readonly since: number;
}

/** Per chat, what waits for a counsellor whose console is open nowhere. */
export class HeldFrames {
  private readonly held = new Map<string, Held>();

  hold(chatId: string, counsellor: string, frames: readonly ConsoleFrame[]): void {
    const held = this.held.get(chatId) ?? { counsellor, frames: [], since: Date.now() };
    keepWhileAway(held.frames, frames);
    this.held.set(chatId, held);
  }

  forget(chatId: string): void {
    this.held.delete(chatId);
  }

  dropOld(): void {
    const cutoff = Date.now() - HOLD_MS;
    for (const [chatId, held] of this.held) if (held.since < cutoff) this.held.delete(chatId);
  }

  /** Hands the counsellor what was held for them; what nobody heard is kept for next time. */
  async handOver(name: string, send: (frames: ConsoleFrame[]) => Promise<number>): Promise<void> {
    for (const [chatId, held] of [...this.held]) {
      if (held.counsellor !== name) continue;
      this.held.delete(chatId);
      if ((await send(held.frames)) === 0) this.held.set(chatId, held);
    }
  }
}
