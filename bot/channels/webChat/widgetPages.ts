/**
 * The web chat widget: the one script a help organisation's site embeds (`/widget.js`), the chat
 * page it frames (`/chat`, Microsoft's Web Chat talking to our own Direct Line at
 * `/v3/directline`), the Web Chat bundle itself (served from here, never a CDN), and a neutral
 * demo page at `/`. Everything is read, filled in and checked at start-up and served from
 * memory; no response sets a cookie and no page loads anything from anywhere else.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { loadWidgetLabels, type WidgetLabels } from './widgetLabels.js';
import { precompressedFile, precompressedText } from './precompressedAsset.js';
import { chatPagePolicy, DEMO_PAGE_POLICY, frameAncestors, WidgetOptionsError } from './widgetPolicies.js';
import { fillHtml, fillScript } from './widgetTemplates.js';

export interface WidgetPageOptions {
  /** The neutral page quick exit replaces the site with. */
  readonly quickExitUrl: string;
  /** Origins allowed to embed the chat panel in a frame (`*` for any). */
  readonly allowedOrigins: readonly string[];
  /** The widget's words; tests pass a broken copy. Default: resources/web/widget/labels.yaml. */
  readonly labelsFile?: string;
}

const ASSETS = fileURLToPath(new URL('../../../resources/web/widget/', import.meta.url));
const DEFAULT_LABELS_FILE = path.join(ASSETS, 'labels.yaml');
/** The package exports only its modules; the browser bundle sits beside them in dist/. */
const WEB_CHAT_DIST = path.join(path.dirname(createRequire(import.meta.url).resolve('botframework-webchat')), '../dist');

/** Web Chat's bundle changes only with the installed package, so browsers may keep it a week. */
const BUNDLE_CACHE = 'public, max-age=604800';
const NO_STORE = 'no-store';

/** What the host page and the chat frame say to each other with postMessage. */
const QUICK_EXIT_MESSAGE = 'waypoint-widget:quick-exit';
/** Shift pressed this many times within this long leaves at once, as GOV.UK's "Exit this page". */
const SHORTCUT = Object.freeze({ presses: 3, withinMs: 1000 });

const TYPES = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  text: 'text/plain; charset=utf-8',
} as const;

/**
 * Builds the widget's routes once, at start-up: a broken labels file stops the server with
 * ContentError (file, key, line), bad settings with WidgetOptionsError. Mount at `/`, after the
 * API routes.
 */
export async function widgetPages(options: WidgetPageOptions): Promise<express.Router> {
  const ancestors = frameAncestors(options.allowedOrigins);
  const quickExitUrl = httpUrl(options.quickExitUrl);
  const labels = await loadWidgetLabels(options.labelsFile ?? DEFAULT_LABELS_FILE);
  const read = (file: string) => readFile(path.join(ASSETS, file), 'utf8');
  const ownAsset = async (text: string | Promise<string>, contentType: string, headers?: Record<string, string>) =>
    precompressedText(await text, { contentType, cacheControl: NO_STORE, headers });

  const chatHtml = fillHtml(await read('chat.html'), chatWords(labels), 'chat.html', ['nonce']);
  const [demoPage, demoCss, widgetJs, widgetCss, chatJs, chatCss, icon, bundle, bundleLicence] = await Promise.all([
    ownAsset(read('demo.html').then((html) => fillHtml(html, demoWords(labels), 'demo.html')), TYPES.html, { 'Content-Security-Policy': DEMO_PAGE_POLICY }),
    ownAsset(read('demo.css'), TYPES.css),
    // Loaded by other sites' pages, which must be allowed to use them across origins.
    ownAsset(read('widget.js').then((js) => fillScript(js, widgetConfig(labels, quickExitUrl), 'widget.js')), TYPES.js, CROSS_ORIGIN),
    ownAsset(read('widget.css'), TYPES.css, CROSS_ORIGIN),
    ownAsset(read('chat.js').then((js) => fillScript(js, chatConfig(labels, quickExitUrl), 'chat.js')), TYPES.js),
    ownAsset(read('chat.css'), TYPES.css),
    ownAsset(read('icon.svg'), TYPES.svg),
    precompressedFile(path.join(WEB_CHAT_DIST, 'webchat.js'), { contentType: TYPES.js, cacheControl: BUNDLE_CACHE }),
    // The bundle's licence comment points here; MIT asks for the notices to travel with the code.
    ownAsset(readFile(path.join(WEB_CHAT_DIST, 'webchat.js.LICENSE.txt'), 'utf8'), TYPES.text),
  ]);

  const router = express.Router({ strict: true });
  router.get('/', demoPage);
  router.get('/demo.css', demoCss);
  router.get('/widget.js', widgetJs);
  router.get('/widget.css', widgetCss);
  router.get('/chat', (req, res) => {
    const nonce = randomBytes(16).toString('base64');
    // The chat page is the one page other sites may frame; its policy's frame-ancestors says which.
    res.removeHeader('X-Frame-Options');
    res.set({
      'Content-Type': TYPES.html,
      'Cache-Control': NO_STORE,
      'Content-Security-Policy': chatPagePolicy(req.get('host'), nonce, ancestors),
    });
    res.send(fillHtml(chatHtml, { nonce }, 'chat.html'));
  });
  router.get('/chat.js', chatJs);
  router.get('/chat.css', chatCss);
  router.get('/icon.svg', icon);
  router.get('/vendor/webchat.js', bundle);
  router.get('/vendor/webchat.js.LICENSE.txt', bundleLicence);
  return router;
}

const CROSS_ORIGIN = { 'Cross-Origin-Resource-Policy': 'cross-origin', 'Access-Control-Allow-Origin': '*' };

/** The quick exit address goes into a script and a navigation: only a plain http(s) URL will do. */
function httpUrl(text: string): string {
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw new WidgetOptionsError(`QUICK_EXIT_URL: ${JSON.stringify(text)} must be an http(s) URL`);
  return url.href;
}

function widgetConfig(labels: WidgetLabels, quickExitUrl: string) {
  return {
    quickExitUrl,
    quickExitMessage: QUICK_EXIT_MESSAGE,
    shortcut: SHORTCUT,
    labels: { launcher: labels.launcher.label, ...labels.panel },
  };
}

function chatConfig(labels: WidgetLabels, quickExitUrl: string) {
  return {
    quickExitUrl,
    quickExitMessage: QUICK_EXIT_MESSAGE,
    shortcut: SHORTCUT,
    labels: labels.chat,
  };
}

function chatWords(labels: WidgetLabels): Record<string, string> {
  return {
    pageTitle: labels.chat.pageTitle,
    connecting: labels.chat.connecting,
    retry: labels.chat.retry,
    panelTitle: labels.panel.title,
    quickExit: labels.panel.quickExit,
    quickExitHint: labels.panel.quickExitHint,
  };
}

function demoWords(labels: WidgetLabels): Record<string, string | readonly string[]> {
  return {
    pageTitle: labels.demo.pageTitle,
    heading: labels.demo.heading,
    intro: labels.demo.intro,
    privacyHeading: labels.demo.privacyHeading,
    privacy: labels.demo.privacy,
  };
}
