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
    azure: Object.freeze({
      appId: e.MICROSOFT_APP_ID,
      appPassword: e.MICROSOFT_APP_PASSWORD,
      appType: e.MICROSOFT_APP_TYPE,
      tenantId: e.MICROSOFT_APP_TENANT_ID,
    }),
  });
}
