/**
 * Why a question to another instance got no answer. Its own module so that code which only
 * checks for it (sharedConversations.ts) does not load the Redis client when Redis is not in use.
 */
const BUS_CODES = ['unreachable', 'timeout', 'failed', 'closed'] as const;
export type BusCode = (typeof BUS_CODES)[number];

export class BusError extends Error {
  constructor(readonly code: BusCode) {
    super(`The other instance did not answer (${code}).`);
  }
}

export function isBusCode(value: unknown): value is BusCode {
  return (BUS_CODES as readonly unknown[]).includes(value);
}
