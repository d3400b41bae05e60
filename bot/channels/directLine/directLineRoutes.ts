/**
 * The Direct Line 3.0 REST surface, mounted at `/v3/directline`: tokens, conversations, posting
 * and polling activities, and a clear refusal of uploads. Replies reach clients through the
 * conversation's delivery buffer, by polling here or over the stream (directLineStream.ts).
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { ActivityTypes } from 'botbuilder';
import { sendError } from '../../httpErrors.js';
import { plainHost } from '../../plainHost.js';
import { newErrorId, type Logger } from '../../privacy/logger.js';
import type { DirectLineAdapter } from './directLineAdapter.js';
import { identifyCaller, mayUse, type Caller } from './directLineAuth.js';
import { DirectLineConversation, type ActivityGroup, type DirectLineConversations } from './directLineConversations.js';
import { ConversationGone, ConversationUnreachable, type Lookup, type Person, type RemoteConversation, type SharedConversations } from './sharedConversations.js';
import { newConversationId, newUserId, type DirectLineTokens, type TokenClaims } from './directLineTokens.js';
import { checkInboundActivity, isLocaleTag } from './inboundActivity.js';

const BODY_LIMIT = '64kb';
const USER_ID = /^[A-Za-z0-9_:.@-]{1,64}$/;
const WATERMARK = /^\d{1,15}$/;
/** A stream URL is for connecting now; a client that reconnects asks for a new one. */
export const STREAM_TICKET_SECONDS = 120;
/** Turns of one conversation waiting to be answered; more is a client out of control. */
const MAX_PENDING_TURNS = 8;

export interface DirectLineRouteOptions {
  readonly tokens: DirectLineTokens;
  readonly conversations: DirectLineConversations;
  readonly adapter: DirectLineAdapter;
  readonly secret: string | undefined;
  /** Where browsers reach us, e.g. https://chat.example.org; undefined: from each request. */
  readonly publicUrl: string | undefined;
  /** Ends a conversation: its last turn, then its buffer and streams are dropped. */
  readonly endConversation: (conversation: DirectLineConversation) => Promise<void>;
  readonly log: Logger;
  /** The clock tokens are issued by; tests inject one. */
  readonly now?: () => number;
  /** With several instances: conversations held on others. */
  readonly shared?: SharedConversations;
}

type Authed = Request & { caller: Caller };
/** A conversation held here, or on another instance (sharedConversations.ts). */
type Served = DirectLineConversation | RemoteConversation;

export function directLineRoutes(options: DirectLineRouteOptions): express.Router {
  const { tokens, conversations, adapter, shared, log, now = Date.now } = options;
  const router = express.Router({ strict: false });
  const json = express.json({ limit: BODY_LIMIT });
  router.use(allowAnyOrigin);
  const authed: RequestHandler = (req, res, next) => {
    const check = identifyCaller(req, tokens, options.secret);
    if (!check.ok) return sendError(res, check.code);
    (req as Authed).caller = check.caller;
    next();
  };
  /** Loads the conversation named in the path, if this caller may use it. */
  const conversationOf = async (req: Request, res: Response): Promise<Served | undefined> => {
    const id = String(req.params.conversationId);
    const caller = (req as Authed).caller;
    if (!mayUse(caller, id)) return void sendError(res, 'CONVERSATION_FORBIDDEN');
    const conversation = conversations.get(id);
    if (conversation) {
      conversation.touch();
      return conversation;
    }
    if (!shared) return void sendError(res, 'CONVERSATION_NOT_FOUND');
    return served(res, await shared.find(id, personOf(caller)));
  };
  const tokenFor = (caller: Caller, claims: Omit<TokenClaims, 'expiresAt'>) =>
    caller.kind === 'token'
      ? { token: caller.token, expiresIn: Math.max(0, caller.claims.expiresAt - Math.floor(now() / 1000)) }
      : tokens.issue(claims);

  router.post('/tokens/generate', authed, json, (req, res) => {
    if ((req as Authed).caller.kind !== 'secret') return sendError(res, 'SECRET_REQUIRED');
    const userId = requestedUserId(req.body);
    if (userId === null) return sendError(res, 'BAD_REQUEST', { detail: '"user.id" must be 1 to 64 letters, digits or _:.@-' });
    const conversationId = newConversationId();
    const { token, expiresIn } = tokens.issue({ conversationId, userId: userId ?? newUserId() });
    res.json({ conversationId, token, expires_in: expiresIn });
  });

  router.post('/tokens/refresh', authed, async (req, res) => {
    const caller = (req as Authed).caller;
    if (caller.kind !== 'token') return sendError(res, 'TOKEN_REQUIRED');
    const { conversationId, userId, locale } = caller.claims;
    const ended = conversations.hasEnded(conversationId) || (shared !== undefined && !conversations.get(conversationId) && (await shared.hasEnded(conversationId)));
    if (ended) return sendError(res, 'CONVERSATION_NOT_FOUND');
    const { token, expiresIn } = tokens.issue({ conversationId, userId, locale });
    res.json({ conversationId, token, expires_in: expiresIn });
  });

  router.post('/conversations', authed, json, async (req, res, next) => {
    const caller = (req as Authed).caller;
    let claims: Omit<TokenClaims, 'expiresAt'>;
    if (caller.kind === 'token') claims = caller.claims;
    else {
      const userId = requestedUserId(req.body);
      if (userId === null) return sendError(res, 'BAD_REQUEST', { detail: '"user.id" must be 1 to 64 letters, digits or _:.@-' });
      claims = { conversationId: newConversationId(), userId: userId ?? newUserId() };
    }
    const locale = requestedLocale(req.body) ?? claims.locale;
    let conversation: Served | undefined;
    if (!shared || conversations.get(claims.conversationId)) conversation = conversations.open(claims.conversationId, claims.userId, locale);
    else {
      conversation = served(res, await shared.open(claims.conversationId, { userId: claims.userId, locale }, caller.kind === 'secret'));
      if (!conversation) return;
    }
    if (!conversation) return sendError(res, 'CONVERSATION_NOT_FOUND');
    const isNew = conversation instanceof DirectLineConversation && !conversation.started;
    try {
      if (isNew && conversation instanceof DirectLineConversation) await adapter.welcome(conversation);
    } catch (error) {
      return next(error);
    }
    const { token, expiresIn } = tokenFor(caller, claims);
    res.status(isNew ? 201 : 200).json({
      conversationId: conversation.id,
      token,
      expires_in: expiresIn,
      streamUrl: streamUrl(req, conversation, undefined),
    });
  });

  router.get('/conversations/:conversationId', authed, async (req, res) => {
    const conversation = await conversationOf(req, res);
    if (!conversation) return;
    const watermark = parseWatermark(req.query.watermark);
    if (watermark === null) return sendError(res, 'BAD_WATERMARK');
    const { token, expiresIn } = tokenFor((req as Authed).caller, { conversationId: conversation.id, userId: conversation.userId, locale: conversation.locale });
    res.json({ conversationId: conversation.id, token, expires_in: expiresIn, streamUrl: streamUrl(req, conversation, watermark) });
  });

  router.get('/conversations/:conversationId/activities', authed, async (req, res) => {
    const watermark = parseWatermark(req.query.watermark);
    const conversation = await conversationOf(req, res);
    if (!conversation) return;
    if (watermark === null) return sendError(res, 'BAD_WATERMARK');
    let group: ActivityGroup;
    try {
      group = await conversation.after(watermark);
    } catch (error) {
      if (error instanceof ConversationGone) return sendError(res, 'CONVERSATION_NOT_FOUND');
      return sendError(res, 'CONVERSATION_UNREACHABLE', { retryAfterSeconds: 1 });
    }
    res.json({ activities: group.activities, watermark: group.watermark ?? '' });
  });

  router.post('/conversations/:conversationId/activities', authed, async (req, res, next) => {
    const conversation = await conversationOf(req, res);
    if (!conversation) return;
    if (!req.is('application/json')) return sendError(res, 'UNSUPPORTED_MEDIA_TYPE');
    json(req, res, async (parseError?: unknown) => {
      if (parseError) return next(parseError);
      const check = checkInboundActivity(req.body);
      if (!check.ok) return sendError(res, 'BAD_ACTIVITY', { detail: check.problem });
      if (conversation.pendingTurns >= MAX_PENDING_TURNS) return sendError(res, 'TOO_MANY_TURNS', { retryAfterSeconds: 1 });
      conversation.pendingTurns++;
      try {
        if (check.activity.type === ActivityTypes.EndOfConversation) {
          await (conversation instanceof DirectLineConversation ? options.endConversation(conversation) : conversation.end());
          return void res.json({ id: `${conversation.id}|end` });
        }
        const id = await adapter.receive(conversation, check.activity);
        res.json({ id });
      } catch (error) {
        // Another instance holds the conversation and did not answer in time: worth trying again.
        if (error instanceof ConversationUnreachable) return sendError(res, 'CONVERSATION_UNREACHABLE', { retryAfterSeconds: 1 });
        const errorId = newErrorId();
        log.error({ event: 'directLine.turnFailed', errorId, err: error });
        sendError(res, 'INTERNAL', { errorId });
      } finally {
        conversation.pendingTurns--;
      }
    });
  });

  // Files are never read: the body is not even parsed (see DESIGN.md, media rule).
  router.post('/conversations/:conversationId/upload', authed, async (req, res) => {
    if (!(await conversationOf(req, res))) return;
    res.set('Connection', 'close');
    sendError(res, 'FILES_NOT_ACCEPTED');
  });

  /** The stream URL a client connects to now; it carries a short-lived ticket for this conversation. */
  function streamUrl(req: Request, conversation: Served, watermark: number | undefined): string {
    const base = (options.publicUrl ?? `${req.protocol}://${plainHost(req.get('host'))}`).replace(/^http/, 'ws');
    const { token: ticket } = tokens.issue(
      { conversationId: conversation.id, userId: conversation.userId },
      'stream',
      STREAM_TICKET_SECONDS,
    );
    const query = new URLSearchParams({ t: ticket });
    if (watermark !== undefined) query.set('watermark', String(watermark));
    return `${base}/v3/directline/conversations/${encodeURIComponent(conversation.id)}/stream?${query}`;
  }

  return router;
}

/** The conversation found on some instance, or the refusal sent. */
function served(res: Response, found: Lookup): Served | undefined {
  if (found === 'notFound') return void sendError(res, 'CONVERSATION_NOT_FOUND');
  if (found === 'unreachable') return void sendError(res, 'CONVERSATION_UNREACHABLE', { retryAfterSeconds: 1 });
  return found;
}

/** Whose conversation a token is for: lets an instance take it over when its home is gone. The secret says nothing of it. */
function personOf(caller: Caller): Person | undefined {
  return caller.kind === 'token' ? { userId: caller.claims.userId, locale: caller.claims.locale } : undefined;
}

/** undefined: none asked for; null: asked for one that is not acceptable. */
function requestedUserId(body: unknown): string | undefined | null {
  const id = (body as { user?: { id?: unknown } } | undefined)?.user?.id;
  if (id === undefined || id === null || id === '') return undefined;
  return typeof id === 'string' && USER_ID.test(id) ? id : null;
}

function requestedLocale(body: unknown): string | undefined {
  const locale = (body as { locale?: unknown } | undefined)?.locale;
  return isLocaleTag(locale) ? locale : undefined;
}

/** undefined: none given; null: not a watermark this service issued. */
export function parseWatermark(value: unknown): number | undefined | null {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !WATERMARK.test(value)) return null;
  return Number(value);
}


/**
 * Direct Line clients on other sites call us from their pages. Authorisation is a bearer token,
 * never a cookie, so any origin may call.
 */
function allowAnyOrigin(req: Request, res: Response, next: NextFunction): void {
  res.set({
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Headers': 'Authorization, Content-Type, x-ms-bot-agent, x-requested-with',
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    'Access-Control-Max-Age': '600',
  });
  if (req.method === 'OPTIONS') return void res.status(204).end();
  next();
}
