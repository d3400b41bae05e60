/**
 * The chat page inside the widget's frame: gets a conversation token from this server, then runs
 * Microsoft's Web Chat (loaded just before this file from /vendor/webchat.js) against our own
 * Direct Line service. The conversation lives only in this page's memory: nothing is kept in
 * cookies or browser storage, and nothing is fetched from anywhere but this server.
 *
 * Quick exit: Shift pressed three times here asks the host page to leave (it cannot leave for
 * it across origins); the host page's quick exit button asks this page to end the conversation.
 * Opened on its own (not in a frame), the page shows its own quick exit button and leaves itself.
 */
/* global document, window, location, navigator, fetch, URLSearchParams */
(() => {
  'use strict';

  /** Filled in by the server: { quickExitUrl, quickExitMessage, shortcut: { presses, withinMs }, labels }. */
  const CONFIG = /*@server-config*/ null;
  const { labels } = CONFIG;

  // Web Chat puts this response's CSP nonce on the <style> elements it inserts.
  const styleNonce = (document.currentScript && document.currentScript.nonce) || undefined;
  const framed = window.parent !== window;
  const params = new URLSearchParams(location.search);
  const locale = pickLocale(params.get('locale'));
  const webSocket = params.get('polling') !== '1';
  const DIRECT_LINE = `${location.origin}/v3/directline`;
  /** botframework-directlinejs's ConnectionStatus values. */
  const FAILED_TO_CONNECT = 4;

  const statusBox = document.getElementById('chat-status');
  const statusText = document.getElementById('chat-status-text');
  const retryButton = document.getElementById('chat-retry');
  const webChatRoot = document.getElementById('webchat');

  /** { token, conversationId, directLine, ended } of the conversation on screen. */
  let session;

  const STYLE_OPTIONS = {
    hideUploadButton: true,
    accent: '#2f6b6a',
    subtle: '#56656a',
    backgroundColor: '#f7f8f6',
    primaryFont: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
    bubbleBackground: '#ffffff',
    bubbleBorderColor: '#d5dedc',
    bubbleBorderRadius: 10,
    bubbleTextColor: '#1f2a2e',
    bubbleFromUserBackground: '#e2eeec',
    bubbleFromUserBorderColor: '#c3d6d3',
    bubbleFromUserBorderRadius: 10,
    bubbleFromUserTextColor: '#1f2a2e',
    bubbleMinWidth: 200,
    // Our content never needs raw HTML; markdown (links, emphasis, lists) still renders.
    markdownRenderHTML: false,
    // Every option visible at once, wrapping onto more lines, rather than a sideways carousel.
    suggestedActionLayout: 'flow',
    suggestedActionBorderRadius: 8,
    suggestedActionBorderWidth: 1,
    suggestedActionBorderColor: '#2f6b6a',
    suggestedActionTextColor: '#1f4f4e',
    suggestedActionBackgroundColor: '#ffffff',
    suggestedActionBackgroundColorOnHover: '#e2eeec',
    suggestedActionKeyboardFocusIndicatorBorderColor: '#1f2a2e',
    suggestedActionKeyboardFocusIndicatorBorderStyle: 'solid',
    suggestedActionKeyboardFocusIndicatorBorderWidth: 2,
    sendBoxButtonColor: '#2f6b6a',
    sendBoxTextColor: '#1f2a2e',
    sendBoxBorderTop: 'solid 1px #d5dedc',
    sendBoxTextWrap: true,
    timestampColor: '#56656a',
  };

  if (!framed) showOwnQuickExit();
  watchForShortcut();
  window.addEventListener('message', (event) => {
    // Only the page that frames us may ask, and it asks only when leaving.
    if (event.source !== window.parent || !event.data || event.data.type !== CONFIG.quickExitMessage) return;
    endConversation();
    document.body.replaceChildren();
  });
  // The conversation cannot outlive this page (nothing is stored), so the server can forget it
  // now rather than when it times out. This also covers the host page removing our frame.
  window.addEventListener('pagehide', (event) => {
    if (!event.persisted) endConversation();
  });
  window.addEventListener('offline', () => showStatus(labels.offline, false));
  window.addEventListener('online', () => {
    if (session) hideStatus();
  });
  retryButton.addEventListener('click', () => {
    void start();
  });
  void start();

  async function start() {
    showStatus(labels.connecting, false);
    if (session) {
      endConversation();
      session.directLine.end();
      session = undefined;
    }
    if (!window.WebChat) return showStatus(labels.failed, true);
    let response;
    try {
      response = await fetch('/webchat/token', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ locale }),
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch {
      return showStatus(navigator.onLine === false ? labels.offline : labels.failed, true);
    }
    if (response.status === 429) return showStatus(labels.busy, true);
    const body = response.ok ? await response.json().catch(() => undefined) : undefined;
    if (!body || typeof body.token !== 'string' || typeof body.conversationId !== 'string') return showStatus(labels.failed, true);

    const directLine = window.WebChat.createDirectLine({ token: body.token, domain: DIRECT_LINE, webSocket });
    session = { token: body.token, conversationId: body.conversationId, directLine, ended: false };
    directLine.connectionStatus$.subscribe((status) => {
      if (status === FAILED_TO_CONNECT && session && session.directLine === directLine) showStatus(labels.failed, true);
    });
    window.WebChat.renderWebChat({ directLine, locale, nonce: styleNonce, styleOptions: STYLE_OPTIONS }, webChatRoot);
    hideStatus();
  }

  /** Best effort and never waited for: leaving must not be slowed by the network. */
  function endConversation() {
    if (!session || session.ended) return;
    session.ended = true;
    try {
      fetch(`${DIRECT_LINE}/conversations/${encodeURIComponent(session.conversationId)}/activities`, {
        method: 'POST',
        keepalive: true,
        credentials: 'omit',
        // The client swaps in a refreshed token every 15 minutes; the first one may have expired.
        headers: { Authorization: `Bearer ${session.directLine.token || session.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ type: 'endOfConversation', from: { id: 'user', role: 'user' } }),
      }).catch(() => undefined);
    } catch {
      // A browser that refuses the request still leaves.
    }
  }

  function quickExit() {
    endConversation();
    document.body.replaceChildren();
    if (framed) window.parent.postMessage({ type: CONFIG.quickExitMessage }, '*');
    else location.replace(CONFIG.quickExitUrl);
  }

  function showOwnQuickExit() {
    document.getElementById('chat-header').hidden = false;
    document.getElementById('quick-exit').addEventListener('click', quickExit);
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

  // The status box stays in the page (empty when there is nothing to say) so screen readers keep
  // treating it as a live region and announce each new message.
  function showStatus(text, canRetry) {
    statusText.textContent = text;
    retryButton.hidden = !canRetry;
    statusBox.classList.add('chat-status--shown');
  }

  function hideStatus() {
    statusBox.classList.remove('chat-status--shown');
    statusText.textContent = '';
    retryButton.hidden = true;
  }

  /** A language tag such as en, en-GB or pt-BR; anything else falls back to the browser's. */
  function pickLocale(asked) {
    const tag = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}$/;
    if (asked && tag.test(asked)) return asked;
    return tag.test(navigator.language || '') ? navigator.language : 'en';
  }
})();
