/**
 * Every setting, read from the environment once, validated and frozen. Each has a default that
 * runs on a laptop with nothing else installed; `.env.example` documents the same list.
 */
import path from 'node:path';
import { z } from 'zod';

const emptyAsUndefined = (value: unknown) => (value === '' ? undefined : value);
const optionalText = z.preprocess(emptyAsUndefined, z.string().optional());
const integer = (fallback: number, min: number, max: number) =>
  z.preprocess(emptyAsUndefined, z.coerce.number().int().min(min).max(max).default(fallback));

const envSchema = z.object({
  PORT: integer(3978, 0, 65535),
  HOST: z.preprocess(emptyAsUndefined, z.string().default('127.0.0.1')),
  DATA_DIR: z.preprocess(emptyAsUndefined, z.string().default('./data')),
  CONTENT_DIR: z.preprocess(emptyAsUndefined, z.string().default('./resources/content')),
  RISK_DIR: z.preprocess(emptyAsUndefined, z.string().default('./resources/risk')),
  HELPLINES_FILE: z.preprocess(emptyAsUndefined, z.string().default('./resources/helplines.yaml')),
  HANDOVER_FILE: z.preprocess(emptyAsUndefined, z.string().default('./resources/handover.yaml')),
  HANDOVER_MODE: z.preprocess(emptyAsUndefined, z.enum(['console', 'events']).default('console')),
  DEFAULT_LOCALE: z.preprocess(emptyAsUndefined, z.string().default('en')),
  LOG_LEVEL: z.preprocess(
    emptyAsUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
  PSEUDONYM_SECRET: optionalText,
  RETENTION_DAYS: integer(30, 1, 3650),
  RETENTION_SWEEP_MINUTES: integer(60, 1, 24 * 60),
  PRIVACY_GUARD: z.preprocess(emptyAsUndefined, z.enum(['drop', 'throw']).default('drop')),
  MICROSOFT_APP_ID: optionalText,
  MICROSOFT_APP_PASSWORD: optionalText,
  MICROSOFT_APP_TYPE: z.preprocess(
    emptyAsUndefined,
    z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI']).default('MultiTenant'),
  ),
  MICROSOFT_APP_TENANT_ID: optionalText,
  PUBLIC_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
  TRUST_PROXY: z.preprocess(emptyAsUndefined, z.enum(['true', 'false']).default('false')),
  DIRECT_LINE_SECRET: z.preprocess(emptyAsUndefined, z.string().min(32, 'must be at least 32 characters').optional()),
  // Web Chat refreshes its token every 15 minutes whatever the lifetime, so less would cut it off.
  DIRECT_LINE_TOKEN_MINUTES: integer(30, 20, 24 * 60),
  DIRECT_LINE_BUFFER_ACTIVITIES: integer(50, 5, 1000),
  DIRECT_LINE_BUFFER_MINUTES: integer(10, 1, 24 * 60),
  DIRECT_LINE_IDLE_MINUTES: integer(30, 1, 24 * 60),
  WIDGET_TOKENS_PER_MINUTE: integer(10, 1, 10_000),
  WIDGET_ALLOWED_ORIGINS: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .default('*')
      // These go into a Content-Security-Policy header: only plain origins, or *.
      .refine((value) => value.split(/\s+/).filter(Boolean).every((origin) => origin === '*' || /^https?:\/\/(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:\d{1,5})?$/.test(origin)), {
        message: 'must be * or space-separated origins such as https://help.example.org or https://*.example.org',
      }),
  ),
  QUICK_EXIT_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/ }).default('https://www.bbc.co.uk/weather')),
  // The messages never name the value: a token in an error report would be a leaked token.
  TELEGRAM_BOT_TOKEN: z.preprocess(
    emptyAsUndefined,
    z.string().regex(/^\d{1,20}:[A-Za-z0-9_-]{10,200}$/, 'must be the token BotFather gives, such as 123456789:AAE…').optional(),
  ),
  TELEGRAM_WEBHOOK_URL: z.preprocess(
    emptyAsUndefined,
    z
      .url({ protocol: /^https$/, error: 'must be an https URL (Telegram only delivers to https)' })
      .refine((value) => /^(\/[A-Za-z0-9._~-]+)+\/?$/.test(new URL(value).pathname), {
        message: 'must have a plain path (letters, digits, "/", ".", "_", "~", "-"), such as https://chat.example.org/telegram/hook',
      })
      .optional(),
  ),
  TELEGRAM_WEBHOOK_SECRET: z.preprocess(
    emptyAsUndefined,
    z.string().regex(/^[A-Za-z0-9_-]{16,256}$/, 'must be 16 to 256 letters, digits, "_" or "-"').optional(),
  ),
  TELEGRAM_API_ROOT: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/ }).default('https://api.telegram.org')),
  METRICS_TOKEN: z.preprocess(emptyAsUndefined, z.string().regex(/^[\x21-\x7e]{16,256}$/, 'must be 16 to 256 printable characters without spaces').optional()),
  // The URL can carry a password: messages never quote it.
  REDIS_URL: z.preprocess(
    emptyAsUndefined,
    z
      .url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL, such as redis://127.0.0.1:6379' })
      .refine((value) => !URL.canParse(value) || new URL(value).hostname !== '', { message: 'must name a host, such as redis://127.0.0.1:6379' })
      .optional(),
  ),
  REDIS_KEY_PREFIX: z.preprocess(
    emptyAsUndefined,
    z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'must be 1 to 64 letters, digits, ":", "_", "." or "-"').default('waypoint:'),
  ),
});

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly contentDir: string;
  /** Lexicon and examples of the risk screen, one `<locale>.yaml` each. */
  readonly riskDir: string;
  readonly helplinesFile: string;
  /** Counsellors' opening hours and queue settings. */
  readonly handoverFile: string;
  /** 'console': Waypoint's own counsellor console; 'events': Bot Framework handoff events to an external contact centre. */
  readonly handoverMode: 'console' | 'events';
  readonly defaultLocale: string;
  readonly logLevel: string;
  readonly pseudonymSecret: string | undefined;
  readonly retentionDays: number;
  readonly retentionSweepMs: number;
  /** 'throw' makes a privacy violation fail loudly (tests); 'drop' discards the write and alerts (production). */
  readonly privacyGuard: 'drop' | 'throw';
  /** Where browsers reach this server (behind a proxy); undefined: taken from each request. */
  readonly publicUrl: string | undefined;
  /** Behind a reverse proxy, take the client's address and protocol from X-Forwarded-* headers. */
  readonly trustProxy: boolean;
  readonly directLine: {
    /** The site's Direct Line secret (for its own server); undefined: only the widget's token endpoint issues tokens. */
    readonly secret: string | undefined;
    readonly tokenSeconds: number;
    /** The per-conversation delivery buffer keeps at most this many activities, none older than bufferMs. */
    readonly bufferActivities: number;
    readonly bufferMs: number;
    /** A conversation nobody has touched for this long is ended and forgotten. */
    readonly idleMs: number;
  };
  readonly widget: {
    readonly tokensPerMinute: number;
    /** Origins allowed to embed the chat panel (`*` for any), for frame-ancestors. */
    readonly allowedOrigins: readonly string[];
    /** The neutral page that quick exit replaces the site with. */
    readonly quickExitUrl: string;
  };
  readonly telegram: {
    /** The bot's token from BotFather; undefined: the Telegram channel does not start. Never log it. */
    readonly token: string | undefined;
    /** The Bot API server: Telegram's, or a self-hosted one. */
    readonly apiRoot: string;
    /** Where Telegram delivers updates; undefined: long polling (no public URL needed). */
    readonly webhook: { readonly url: string; readonly path: string; readonly secret: string } | undefined;
  };
  /** Shared state for several instances; undefined: the embedded lowdb store in dataDir. */
  readonly redis: {
    /** Never log it: it can hold a password. */
    readonly url: string | undefined;
    /** Put before every Redis key, so several deployments can share one Redis. */
    readonly keyPrefix: string;
  };
  /** Bearer token GET /metrics requires; undefined: metrics are served to loopback peers only. Never log it. */
  readonly metricsToken: string | undefined;
  readonly azure: {
    readonly appId: string | undefined;
    readonly appPassword: string | undefined;
    readonly appType: string;
    readonly tenantId: string | undefined;
  };
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  /** The message names settings and rules, never secret values, so it is safe to log. */
  static readonly safeMessage = true;
}

/** Reads and validates settings; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid settings:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.MICROSOFT_APP_ID && !e.MICROSOFT_APP_PASSWORD && e.MICROSOFT_APP_TYPE !== 'UserAssignedMSI') {
    throw new ConfigError('Invalid settings:\n  MICROSOFT_APP_PASSWORD: required when MICROSOFT_APP_ID is set');
  }
  if (e.REDIS_URL && !e.PSEUDONYM_SECRET) {
    // Each instance would otherwise generate its own secret and not know anyone another one saw.
    throw new ConfigError('Invalid settings:\n  PSEUDONYM_SECRET: required when REDIS_URL is set (every instance must use the same one)');
  }
  if (e.TELEGRAM_WEBHOOK_URL && !e.TELEGRAM_WEBHOOK_SECRET) {
    throw new ConfigError('Invalid settings:\n  TELEGRAM_WEBHOOK_SECRET: required when TELEGRAM_WEBHOOK_URL is set');
  }
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(e.DATA_DIR),
    contentDir: path.resolve(e.CONTENT_DIR),
    riskDir: path.resolve(e.RISK_DIR),
    helplinesFile: path.resolve(e.HELPLINES_FILE),
    handoverFile: path.resolve(e.HANDOVER_FILE),
    handoverMode: e.HANDOVER_MODE,
    defaultLocale: e.DEFAULT_LOCALE,
    logLevel: e.LOG_LEVEL,
    pseudonymSecret: e.PSEUDONYM_SECRET,
    retentionDays: e.RETENTION_DAYS,
    retentionSweepMs: e.RETENTION_SWEEP_MINUTES * 60_000,
    privacyGuard: e.PRIVACY_GUARD,
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
    trustProxy: e.TRUST_PROXY === 'true',
    directLine: Object.freeze({
      secret: e.DIRECT_LINE_SECRET,
      tokenSeconds: e.DIRECT_LINE_TOKEN_MINUTES * 60,
      bufferActivities: e.DIRECT_LINE_BUFFER_ACTIVITIES,
      bufferMs: e.DIRECT_LINE_BUFFER_MINUTES * 60_000,
      idleMs: e.DIRECT_LINE_IDLE_MINUTES * 60_000,
    }),
    widget: Object.freeze({
      tokensPerMinute: e.WIDGET_TOKENS_PER_MINUTE,
      allowedOrigins: Object.freeze(e.WIDGET_ALLOWED_ORIGINS.split(/\s+/).filter(Boolean)),
      quickExitUrl: e.QUICK_EXIT_URL,
    }),
    telegram: Object.freeze({
      token: e.TELEGRAM_BOT_TOKEN,
      apiRoot: e.TELEGRAM_API_ROOT.replace(/\/+$/, ''),
      webhook:
        e.TELEGRAM_WEBHOOK_URL && e.TELEGRAM_WEBHOOK_SECRET
          ? Object.freeze({
              url: e.TELEGRAM_WEBHOOK_URL,
              path: new URL(e.TELEGRAM_WEBHOOK_URL).pathname.replace(/\/+$/, ''),
              secret: e.TELEGRAM_WEBHOOK_SECRET,
            })
          : undefined,
    }),
    redis: Object.freeze({ url: e.REDIS_URL, keyPrefix: e.REDIS_KEY_PREFIX }),
    metricsToken: e.METRICS_TOKEN,
    azure: Object.freeze({
      appId: e.MICROSOFT_APP_ID,
      appPassword: e.MICROSOFT_APP_PASSWORD,
      appType: e.MICROSOFT_APP_TYPE,
      tenantId: e.MICROSOFT_APP_TENANT_ID,
    }),
  });
}
