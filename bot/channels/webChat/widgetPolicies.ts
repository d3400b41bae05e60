/**
 * The Content-Security-Policy of each widget page. Each page may load only from this server and
 * talk only to it, so nothing a person does in the chat reaches a third party, and a message can
 * never run as script. Only the chat page may be framed, and only by the configured sites.
 */
import { plainHost } from '../../plainHost.js';

export class WidgetOptionsError extends Error {
  override readonly name = 'WidgetOptionsError';
  readonly code = 'WIDGET_OPTIONS_INVALID';
}

/** `https://example.org`, `http://localhost:8080`, `https://*.example.org`; no path, no quotes, no spaces. */
const FRAME_ANCESTOR = /^https?:\/\/(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:\d{1,5})?$/;


/**
 * Checks the configured origins once, at start-up, because each becomes part of a header: a
 * quote or semicolon in one would rewrite the policy. Returns the frame-ancestors source list.
 */
export function frameAncestors(allowedOrigins: readonly string[]): string {
  if (allowedOrigins.length === 0) throw new WidgetOptionsError('WIDGET_ALLOWED_ORIGINS: list at least one site, or * for any');
  const bad = allowedOrigins.filter((origin) => origin !== '*' && !FRAME_ANCESTOR.test(origin));
  if (bad.length > 0) {
    throw new WidgetOptionsError(`WIDGET_ALLOWED_ORIGINS: ${bad.map((o) => JSON.stringify(o)).join(', ')} must be * or an origin such as https://example.org`);
  }
  // 'self' keeps the demo page at / working whatever the list says.
  return ["'self'", ...new Set(allowedOrigins)].join(' ');
}

/**
 * The hash of an empty text. Web Chat 4.18 does not hand its nonce on to react-scroll-to-bottom,
 * whose emotion cache inserts an empty <style> and fills it through the CSSOM (which CSP does not
 * police). Allowing exactly the empty element keeps the console clean without 'unsafe-inline';
 * a style element with any text in it still needs the nonce.
 */
const EMPTY_STYLE_HASH = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='";

/**
 * The chat page inside the iframe. Web Chat styles itself by inserting <style> elements (emotion);
 * each response gets a fresh nonce that Web Chat puts on them (its `nonce` prop), so styles need
 * no 'unsafe-inline' either.
 */
export function chatPagePolicy(hostHeader: string | undefined, nonce: string, ancestors: string): string {
  const host = plainHost(hostHeader);
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self' 'nonce-${nonce}' ${EMPTY_STYLE_HASH}`,
    // 'self' covers ws: in current browsers; the explicit entries keep older ones working.
    `connect-src 'self' ws://${host} wss://${host}`,
    // Web Chat draws a few icons as data: URLs, and blob: covers images it builds itself.
    "img-src 'self' data: blob:",
    `frame-ancestors ${ancestors}`,
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** The demo page at `/`: our own script, stylesheet and chat frame, nothing else. */
export const DEMO_PAGE_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "frame-src 'self'",
  "frame-ancestors 'none'",
  "form-action 'none'",
  "base-uri 'none'",
].join('; ');
