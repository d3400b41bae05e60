/**
 * Who is calling: the site's own server with the Direct Line secret (any conversation), or a
 * client with a token (its own conversation only).
 */
import { timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import type { HttpErrorCode } from '../../httpErrors.js';
import type { DirectLineTokens, TokenClaims } from './directLineTokens.js';

export type Caller =
  | { readonly kind: 'secret' }
  | { readonly kind: 'token'; readonly token: string; readonly claims: TokenClaims };

export type CallerCheck = { readonly ok: true; readonly caller: Caller } | { readonly ok: false; readonly code: HttpErrorCode };

export function identifyCaller(req: Request, tokens: DirectLineTokens, secret: string | undefined): CallerCheck {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
  if (!match) return { ok: false, code: 'AUTH_MISSING' };
  const presented = match[1]!;
  if (secret !== undefined && sameText(presented, secret)) return { ok: true, caller: { kind: 'secret' } };
  const check = tokens.check(presented);
  if (!check.ok) return { ok: false, code: check.reason === 'expired' ? 'TOKEN_EXPIRED' : 'TOKEN_INVALID' };
  return { ok: true, caller: { kind: 'token', token: presented, claims: check.claims } };
}

/** A token opens only the conversation it names; the secret opens any. */
export function mayUse(caller: Caller, conversationId: string): boolean {
  return caller.kind === 'secret' || caller.claims.conversationId === conversationId;
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
