/**
 * Direct Line tokens: signed, self-contained and scoped to one conversation, so any instance
 * can check one without a shared table. A token names the conversation and the person's
 * pseudonymous channel id; a short-lived stream ticket (in the WebSocket URL, where browsers
 * cannot send headers) opens only that conversation's stream.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface TokenClaims {
  readonly conversationId: string;
  readonly userId: string;
  /** The locale the widget saw, used until the person's own activities carry one. */
  readonly locale?: string;
  /** Unix seconds. */
  readonly expiresAt: number;
}

export type TokenCheck =
  | { readonly ok: true; readonly claims: TokenClaims }
  | { readonly ok: false; readonly reason: 'invalid' | 'expired' };

type Kind = 'conversation' | 'stream';
const KIND_CODE: Record<Kind, string> = { conversation: 'c', stream: 's' };

export interface DirectLineTokens {
  issue(claims: Omit<TokenClaims, 'expiresAt'>, kind?: Kind, lifetimeSeconds?: number): { token: string; expiresIn: number };
  check(token: string, kind?: Kind): TokenCheck;
}

/** `key` signs every token; `tokenSeconds` is a conversation token's lifetime. */
export function createDirectLineTokens(key: Buffer, tokenSeconds: number, now: () => number = Date.now): DirectLineTokens {
  const sign = (payload: string) => createHmac('sha256', key).update(payload).digest();
  return {
    issue(claims, kind = 'conversation', lifetimeSeconds = tokenSeconds) {
      const expiresAt = Math.floor(now() / 1000) + lifetimeSeconds;
      const body = { k: KIND_CODE[kind], c: claims.conversationId, u: claims.userId, l: claims.locale, e: expiresAt };
      const payload = Buffer.from(JSON.stringify(body)).toString('base64url');
      return { token: `${payload}.${sign(payload).toString('base64url')}`, expiresIn: lifetimeSeconds };
    },
    check(token, kind = 'conversation') {
      const [payload, signature, extra] = token.split('.');
      if (!payload || !signature || extra !== undefined) return { ok: false, reason: 'invalid' };
      const expected = sign(payload);
      const given = Buffer.from(signature, 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'invalid' };
      let body: { k?: unknown; c?: unknown; u?: unknown; l?: unknown; e?: unknown };
      try {
        body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof body;
      } catch {
        return { ok: false, reason: 'invalid' };
      }
      if (body.k !== KIND_CODE[kind] || typeof body.c !== 'string' || typeof body.u !== 'string' || typeof body.e !== 'number') {
        return { ok: false, reason: 'invalid' };
      }
      if (body.e <= now() / 1000) return { ok: false, reason: 'expired' };
      const locale = typeof body.l === 'string' ? body.l : undefined;
      return { ok: true, claims: { conversationId: body.c, userId: body.u, locale, expiresAt: body.e } };
    },
  };
}

/** A conversation id nobody can guess (it is also the key of the delivery buffer). */
export function newConversationId(): string {
  return randomBytes(18).toString('base64url');
}

/** A pseudonymous channel user id for a person the site did not name. */
export function newUserId(): string {
  return `dl_${randomBytes(16).toString('base64url')}`;
}
