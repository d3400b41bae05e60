/**
 * The chat widget a help organisation embeds with one line:
 *
 *   <script src="https://CHAT-SERVER/widget.js" defer></script>
 *
 * Optional attributes on that tag: data-exit-url (where quick exit goes; default from the
 * server's settings), data-position ("right", the default, or "left"), data-locale (e.g. "de";
 * default: the browser's language).
 *
 * It adds a launcher button. The first click builds a panel with the chat page in a frame from
 * the chat server; nothing else is loaded before that. Quick exit (a button, or Shift pressed
 * three times) ends the conversation, removes the panel at once and replaces this page with a
 * neutral one, so Back does not return to it.
 *
 * The host page may have a strict Content-Security-Policy, so this script injects no inline
 * <style> and no markup strings: elements are built one by one, text goes in as textContent,
 * positions are set through element.style, and the look comes from widget.css on the chat server.
 */
/* global document, window, location, navigator, URL */
(() => {
  'use strict';

  /** Filled in by the server: { quickExitUrl, quickExitMessage, shortcut: { presses, withinMs }, labels }. */
  const CONFIG = /*@server-config*/ null;
  const SVG = 'http://www.w3.org/2000/svg';
  const PREFIX = 'wp-widget';

  const script = document.currentScript || document.querySelector('script[src$="/widget.js"]');
  // Included twice, or in a way we cannot find our own address: do nothing rather than half a widget.
  if (!script || !script.src || document.querySelector(`.${PREFIX}-launcher`)) return;
  const ORIGIN = new URL(script.src, location.href).origin;
  const labels = CONFIG.labels;
  const exitUrl = httpUrl(script.dataset.exitUrl) || CONFIG.quickExitUrl;
  const side = script.dataset.position === 'left' ? 'left' : 'right';
  const locale = script.dataset.locale || navigator.language || 'en';

  let launcher;
  let panel;
  let frame;
  let leaving = false;

  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start, { once: true });

  function start() {
    const stylesheet = document.createElement('link');
    stylesheet.rel = 'stylesheet';
    stylesheet.href = `${ORIGIN}/widget.css`;
    stylesheet.referrerPolicy = 'no-referrer';
    document.head.appendChild(stylesheet);

    launcher = element('button', 'launcher');
    launcher.type = 'button';
    launcher.setAttribute('aria-expanded', 'false');
    launcher.appendChild(bubbleIcon());
    launcher.appendChild(element('span', 'launcher-label', labels.launcher));
    place(launcher, { bottom: '20px', [side]: '20px' });
    launcher.addEventListener('click', open);
    document.body.appendChild(launcher);

    window.addEventListener('message', (event) => {
      // Only our own chat frame may ask the page to leave.
      if (event.origin !== ORIGIN || !frame || event.source !== frame.contentWindow) return;
      if (event.data && event.data.type === CONFIG.quickExitMessage) quickExit();
    });
  }

  function open() {
    if (!panel) {
      panel = buildPanel();
      launcher.setAttribute('aria-controls', panel.id);
    }
    panel.style.display = 'flex';
    launcher.style.display = 'none';
    launcher.setAttribute('aria-expanded', 'true');
    panel.focus();
  }

  function close() {
    panel.style.display = 'none';
    launcher.style.display = '';
    launcher.setAttribute('aria-expanded', 'false');
    launcher.focus();
  }

  function quickExit() {
    if (leaving) return;
    leaving = true;
    // The frame ends the conversation (it holds the token) as it is told, or as it is removed.
    if (frame && frame.contentWindow) frame.contentWindow.postMessage({ type: CONFIG.quickExitMessage }, ORIGIN);
    if (panel) panel.remove();
    launcher.remove();
    location.replace(exitUrl);
  }

  function buildPanel() {
    const box = element('div', 'panel');
    box.id = `${PREFIX}-panel`;
    box.setAttribute('role', 'dialog');
    box.setAttribute('aria-modal', 'false');
    box.setAttribute('aria-label', labels.title);
    box.tabIndex = -1;
    place(box, { bottom: '20px', [side]: '20px' });
    box.style.flexDirection = 'column';
    box.style.width = 'min(380px, calc(100vw - 24px))';
    box.style.height = 'min(620px, calc(100vh - 40px))';
    // Where supported, follow the visible height as a phone's keyboard opens.
    box.style.height = 'min(620px, calc(100dvh - 40px))';

    const header = element('div', 'header');
    header.appendChild(element('p', 'title', labels.title));
    const exit = element('button', 'exit', labels.quickExit);
    exit.type = 'button';
    exit.setAttribute('aria-describedby', `${PREFIX}-hint`);
    exit.addEventListener('click', quickExit);
    const minimise = element('button', 'close');
    minimise.type = 'button';
    minimise.setAttribute('aria-label', labels.close);
    minimise.title = labels.close;
    minimise.appendChild(minimiseIcon());
    minimise.addEventListener('click', close);
    header.appendChild(exit);
    header.appendChild(minimise);
    box.appendChild(header);

    const hint = element('p', 'hint', labels.quickExitHint);
    hint.id = `${PREFIX}-hint`;
    box.appendChild(hint);

    frame = element('iframe', 'frame');
    frame.title = labels.frameTitle;
    frame.referrerPolicy = 'no-referrer';
    frame.src = `${ORIGIN}/chat?locale=${encodeURIComponent(locale)}`;
    frame.style.flex = '1';
    frame.style.width = '100%';
    frame.style.border = '0';
    box.appendChild(frame);

    watchForShortcut();
    document.body.appendChild(box);
    return box;
  }

  /** Shift pressed `presses` times within `withinMs`, with no other key between (so typing capitals never counts). */
  function watchForShortcut() {
    let presses = [];
    window.addEventListener(
      'keydown',
      (event) => {
        if (event.key !== 'Shift') {
          presses = [];
          return;
        }
        if (event.repeat) return;
        const now = event.timeStamp;
        presses = presses.filter((at) => now - at <= CONFIG.shortcut.withinMs).concat(now);
        if (presses.length >= CONFIG.shortcut.presses) {
          presses = [];
          quickExit();
        }
      },
      true,
    );
  }

  /** Fixed in the corner above the host page's own content, whatever its stylesheet says. */
  function place(node, offsets) {
    node.style.position = 'fixed';
    node.style.zIndex = '2147483000';
    for (const [edge, value] of Object.entries(offsets)) node.style[edge] = value;
  }

  function element(tag, part, text) {
    const node = document.createElement(tag);
    node.className = `${PREFIX}-${part}`;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function bubbleIcon() {
    return icon('launcher-icon', 'M5 4.5h14A2.5 2.5 0 0 1 21.5 7v8a2.5 2.5 0 0 1-2.5 2.5h-7l-4.5 3.5v-3.5H5A2.5 2.5 0 0 1 2.5 15V7A2.5 2.5 0 0 1 5 4.5z');
  }

  function minimiseIcon() {
    return icon('close-icon', 'M5 11.25h14v1.5H5z');
  }

  function icon(part, d) {
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('class', `${PREFIX}-${part}`);
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('width', '20');
    svg.setAttribute('height', '20');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', d);
    path.setAttribute('fill', 'currentColor');
    svg.appendChild(path);
    return svg;
  }

  function httpUrl(text) {
    try {
      const url = new URL(text || '');
      return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
    } catch {
      return undefined;
    }
  }
})();
