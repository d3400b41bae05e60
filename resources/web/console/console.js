/**
 * Browser side of the Waypoint counsellor console: sign-in, the live queue, the counsellor's open
 * chats and, for supervisors, the team panel, all driven by one WebSocket to /console/ws.
 * Nothing a person typed is ever stored: messages live only in the DOM of an open chat, and every
 * piece of server text goes into the page through textContent so it can never become markup.
 */
/* global document, window, location, fetch, WebSocket, Option, setTimeout, clearTimeout, setInterval, AudioContext */

const $ = (id) => document.getElementById(id);

const PRIORITY_LABELS = {
  child_imminent: 'Child at imminent risk',
  suicide: 'Suicide risk',
  child: 'Child safety',
  other: 'Other',
};
const CATEGORY_WORDS = {
  suicide: 'thoughts of suicide',
  child_at_risk: 'a child may be at risk',
  human: 'asked to talk to a person',
  distress: 'in distress',
  none: 'no risk noted',
};
const ENDED_BY_WORDS = {
  person: 'Chat ended by the person.',
  counsellor: 'Chat ended by you.',
  disconnected: 'Chat ended: connection lost.',
  gone: 'Chat ended while the console was reconnecting.',
};
const ERROR_WORDS = {
  NOT_YOUR_CHAT: 'That chat is not open for you any more (it may have ended).',
  TICKET_GONE: 'That person is no longer waiting: someone else accepted them or they left the queue.',
  NOT_AVAILABLE: 'Turn on "Available for new chats" before accepting someone.',
  BAD_MESSAGE: 'The server could not read that request. Try again; if it keeps happening, reload the page.',
};
const RECONNECT_DELAYS_MS = [1000, 2000, 5000, 10000];
const TYPING_SEND_EVERY_MS = 3000;
const TYPING_SHOW_MS = 4000;
const TICK_MS = 10000;
const STATUS_CLEAR_MS = 20000;

// All mutable page state in one place, so a sign-out can reset it in one go.
const state = {
  session: null, // { name, role, csrfToken }
  socket: null,
  reconnectAttempt: 0,
  reconnectTimer: null,
  signedOut: true,
  available: false,
  clockOffsetMs: 0, // server time minus this computer's time
  modules: [],
  knownTickets: null, // null until the first queue arrives, so the page load itself does not ping
  chats: new Map(), // chatId -> chat view (see createChatView)
  chatNumber: 0,
  selectedChatId: null,
  focusNextOpenedChat: false,
  unseen: 0,
  audio: null,
  statusTimer: null,
};

// ---------- small helpers ----------

const serverNow = () => Date.now() + state.clockOffsetMs;
const asArray = (value) => (Array.isArray(value) ? value : []);
const isSocketOpen = () => state.socket?.readyState === WebSocket.OPEN;
const cloneTemplate = (id) => $(id).content.firstElementChild.cloneNode(true);

// The server's `now` corrects this computer's clock, so waiting times agree across counsellors.
function correctClock(now) {
  if (typeof now === 'number') state.clockOffsetMs = now - Date.now();
}

function formatDuration(ms) {
  const minutes = Math.floor(Math.max(0, ms) / 60000);
  if (minutes < 1) return 'under 1 min';
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function languageName(locale) {
  try {
    const name = new Intl.DisplayNames(['en'], { type: 'language' }).of(String(locale));
    return name && name !== locale ? `${name} (${locale})` : String(locale);
  } catch {
    return String(locale || 'unknown');
  }
}

function reasonWords(reason) {
  const category = CATEGORY_WORDS[reason?.category] ?? String(reason?.category ?? 'unknown');
  const level = reason?.level && reason.level !== 'none' ? `, level ${reason.level}` : '';
  return category.charAt(0).toUpperCase() + category.slice(1) + level;
}

function cardSummary(card) {
  const modules = card.modulesCompleted?.length ?? 0;
  return [
    languageName(card.locale),
    String(card.channel),
    reasonWords(card.reason),
    `${modules} module${modules === 1 ? '' : 's'} done`,
    `safety plan: ${card.safetyPlan ? 'yes' : 'no'}`,
  ].join(' · ');
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// Errors fade after a while so an old one is not mistaken for a new problem.
function showStatus(text) {
  $('status').textContent = text;
  clearTimeout(state.statusTimer);
  if (text) state.statusTimer = setTimeout(() => { $('status').textContent = ''; }, STATUS_CLEAR_MS);
}

function send(frame) {
  if (!isSocketOpen()) {
    showStatus('Not connected to the server right now. Wait for the connection to come back.');
    return false;
  }
  state.socket.send(JSON.stringify(frame));
  return true;
}

// ---------- notifications: title count and a soft tone ----------

// Browsers only allow audio after a user gesture, so the context is created on the first one.
function unlockAudio() {
  if (state.audio || typeof AudioContext === 'undefined') return;
  state.audio = new AudioContext();
}

function playTone() {
  if (!$('sound').checked || !state.audio) return;
  const ctx = state.audio;
  if (ctx.state === 'suspended') ctx.resume().catch(() => {});
  const osc = ctx.createOscillator();
  const gain = ctx.createGain();
  osc.type = 'sine';
  osc.frequency.value = 660;
  const t = ctx.currentTime;
  gain.gain.setValueAtTime(0, t);
  gain.gain.linearRampToValueAtTime(0.08, t + 0.03);
  gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.4);
  osc.connect(gain).connect(ctx.destination);
  osc.start(t);
  osc.stop(t + 0.45);
}

function updateTitle() {
  document.title = state.unseen > 0 ? `(${state.unseen}) Waypoint console` : 'Waypoint console';
}

function notify() {
  if (!document.hasFocus()) {
    state.unseen += 1;
    updateTitle();
  }
  playTone();
}

// ---------- sign-in and session ----------

async function fetchJson(path, options = {}) {
  const response = await fetch(path, { credentials: 'same-origin', ...options });
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  return { response, body };
}

async function checkSession() {
  try {
    const { response, body } = await fetchJson('/console/api/session');
    if (response.ok && body) return body;
    if (response.status === 401) return null;
    throw new Error(`status ${response.status}`);
  } catch {
    return undefined; // unknown: the server may be restarting
  }
}

function showSignIn() {
  state.signedOut = true;
  $('workspace').hidden = true;
  $('account').hidden = true;
  $('signin').hidden = false;
  $('signin-name').focus();
}

function signInErrorText(response) {
  if (response.status === 401) return 'Wrong name or password.';
  if (response.status === 429) {
    const seconds = Number(response.headers.get('Retry-After')) || 900;
    const minutes = Math.max(1, Math.ceil(seconds / 60));
    return `Too many attempts, try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
  }
  return 'Could not sign in because of a server problem. Try again in a moment.';
}

async function submitSignIn(event) {
  event.preventDefault();
  const error = $('signin-error');
  const button = $('signin-submit');
  error.textContent = '';
  button.disabled = true;
  try {
    const { response, body } = await fetchJson('/console/api/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: $('signin-name').value, password: $('signin-password').value }),
    });
    if (response.ok && body) {
      $('signin-password').value = '';
      startConsole(body);
    } else {
      error.textContent = signInErrorText(response);
    }
  } catch {
    error.textContent = 'Cannot reach the server. Check the connection and try again.';
  } finally {
    button.disabled = false;
  }
}

async function signOut() {
  const token = state.session?.csrfToken ?? '';
  try {
    await fetchJson('/console/api/logout', { method: 'POST', headers: { 'X-CSRF-Token': token } });
  } catch {
    // Even if the server is unreachable, the page forgets everything it showed.
  }
  stopConsole();
  showSignIn();
}

function startConsole(session) {
  state.session = session;
  state.signedOut = false;
  showWho(session.name, session.role);
  $('signin').hidden = true;
  $('account').hidden = false;
  $('workspace').hidden = false;
  $('team').hidden = session.role !== 'supervisor';
  $('dashboard-link').hidden = session.role !== 'supervisor';
  connect();
  $('available').focus();
}

// Sign-out clears every chat and queue entry from the page: nothing outlives the session.
function stopConsole() {
  state.signedOut = true;
  clearTimeout(state.reconnectTimer);
  state.socket?.close();
  state.socket = null;
  for (const chatId of [...state.chats.keys()]) removeChat(chatId);
  renderQueue([]);
  $('team-rows').replaceChildren();
  state.session = null;
  state.knownTickets = null;
  state.chatNumber = 0;
  showStatus('');
  setConnection('');
}

function showWho(name, role) {
  $('whoami').textContent = `Signed in as ${name} (${role})`;
}

// ---------- WebSocket connection ----------

function setConnection(text) {
  $('connection').textContent = text;
  setControlsEnabled();
}

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  const url = `${scheme}${location.host}/console/ws?csrf=${encodeURIComponent(state.session.csrfToken)}`;
  setConnection('Connecting…');
  const socket = new WebSocket(url);
  state.socket = socket;
  // Frames still arriving on a socket we have given up on (sign-out, replaced) are ignored.
  socket.addEventListener('message', (event) => {
    if (state.socket === socket) handleFrame(event.data);
  });
  socket.addEventListener('close', () => {
    if (state.socket === socket) scheduleReconnect();
  });
}

function scheduleReconnect() {
  if (state.signedOut) return;
  const delay = RECONNECT_DELAYS_MS[Math.min(state.reconnectAttempt, RECONNECT_DELAYS_MS.length - 1)];
  state.reconnectAttempt += 1;
  setConnection(`Reconnecting… (next try in ${delay / 1000} s)`);
  state.reconnectTimer = setTimeout(reconnect, delay);
}

// A refused upgrade looks like any other close, so ask the session endpoint whether we are
// still signed in (and pick up a fresh CSRF token) before trying the socket again.
async function reconnect() {
  if (state.signedOut) return;
  const session = await checkSession();
  if (state.signedOut) return;
  if (session === null) {
    stopConsole();
    showSignIn();
    $('signin-error').textContent = 'Your session has ended. Please sign in again.';
    return;
  }
  if (session) state.session = session;
  connect();
}

function handleFrame(data) {
  let frame;
  try {
    frame = JSON.parse(data);
  } catch {
    return;
  }
  const handler = FRAME_HANDLERS[frame?.type];
  if (handler) handler(frame);
}

const FRAME_HANDLERS = {
  hello: receiveHello,
  queue: (f) => { correctClock(f.now); renderQueue(asArray(f.entries)); },
  chats: (f) => syncChats(asArray(f.chats)),
  'chat.opened': (f) => openChat(f.chat),
  message: (f) => receiveMessage(f.chatId, f.text),
  typing: (f) => showTyping(f.chatId),
  risk: (f) => showRisk(f.chatId, f.category, f.level),
  delivered: (f) => markDelivered(f.chatId, f.ref),
  'chat.ended': (f) => endChat(f.chatId, f.by),
  presence: (f) => renderPresence(f),
  error: receiveError,
};

function receiveHello(frame) {
  state.reconnectAttempt = 0;
  correctClock(frame.now);
  state.available = Boolean(frame.available);
  $('available').checked = state.available;
  state.modules = asArray(frame.modules);
  showWho(frame.name, frame.role);
  $('team').hidden = frame.role !== 'supervisor';
  $('dashboard-link').hidden = frame.role !== 'supervisor';
  setConnection('Connected');
}

function receiveError(frame) {
  // LIVE_CHAT_UNAVAILABLE: the servers lost touch (Redis); an accept in flight did not happen.
  if (frame.code === 'TICKET_GONE' || frame.code === 'NOT_AVAILABLE' || frame.code === 'LIVE_CHAT_UNAVAILABLE') acceptFailed();
  showStatus(ERROR_WORDS[frame.code] ?? String(frame.message || `Something went wrong (${frame.code}).`));
}

// ---------- availability and control state ----------

function acceptBlockedReason() {
  if (!isSocketOpen()) return 'Accepting is paused until the connection comes back.';
  if (!state.available) return 'Turn on "Available for new chats" to accept someone.';
  return '';
}

// Buttons that need the server are disabled while disconnected, with the reason shown in words.
function setControlsEnabled() {
  const reason = acceptBlockedReason();
  $('accept-hint').textContent = reason;
  for (const button of document.querySelectorAll('.queue-entry .accept')) {
    button.disabled = Boolean(reason) || button.dataset.accepting === 'yes';
  }
  $('available').disabled = !isSocketOpen();
  for (const chat of state.chats.values()) setChatControls(chat);
}

function changeAvailability() {
  const wanted = $('available').checked;
  if (!send({ type: 'availability', available: wanted })) {
    $('available').checked = state.available;
    return;
  }
  state.available = wanted;
  setControlsEnabled();
}

// ---------- queue ----------

function renderQueue(entries) {
  const tickets = new Set(entries.map((entry) => entry.ticket));
  const isNew = (ticket) => state.knownTickets !== null && !state.knownTickets.has(ticket);
  if (entries.some((entry) => isNew(entry.ticket))) notify();
  if (!state.signedOut) state.knownTickets = tickets;

  $('queue-list').replaceChildren(...entries.map(renderQueueEntry));
  $('queue-count').textContent = entries.length ? `(${entries.length} waiting)` : '';
  $('queue-empty').hidden = entries.length > 0;
  setControlsEnabled();
}

function renderQueueEntry(entry) {
  const item = cloneTemplate('tpl-queue-entry');
  const badge = item.querySelector('.badge');
  badge.textContent = PRIORITY_LABELS[entry.priority] ?? String(entry.priority);
  badge.classList.add(`priority-${PRIORITY_LABELS[entry.priority] ? entry.priority : 'other'}`);
  item.querySelector('.summary').textContent = cardSummary(entry.card);
  const waiting = item.querySelector('.waiting');
  waiting.dataset.since = String(entry.card.queuedAt);
  waiting.textContent = `waiting ${formatDuration(serverNow() - entry.card.queuedAt)}`;
  const button = item.querySelector('.accept');
  button.setAttribute('aria-describedby', 'accept-hint');
  button.addEventListener('click', () => acceptTicket(entry.ticket, button));
  return item;
}

function acceptTicket(ticket, button) {
  unlockAudio();
  if (!send({ type: 'accept', ticket })) return;
  // Guard against a double click sending two accepts before the queue refreshes.
  button.dataset.accepting = 'yes';
  button.disabled = true;
  state.focusNextOpenedChat = true;
}

function acceptFailed() {
  state.focusNextOpenedChat = false;
  for (const button of document.querySelectorAll('.queue-entry .accept')) delete button.dataset.accepting;
  setControlsEnabled();
}

// Waiting times are minute-grained, so a slow tick keeps them live without churn.
function tickWaitingTimes() {
  for (const node of document.querySelectorAll('.waiting[data-since]')) {
    node.textContent = `waiting ${formatDuration(serverNow() - Number(node.dataset.since))}`;
  }
}

// ---------- chats: creation, tabs, removal ----------

function syncChats(chats) {
  const open = new Set(chats.map((chat) => chat.chatId));
  // A chat we still show but the server no longer lists ended while we were away.
  for (const [chatId, chat] of state.chats) {
    if (!open.has(chatId) && !chat.ended) endChat(chatId, 'gone');
  }
  for (const chat of chats) {
    if (!state.chats.has(chat.chatId)) createChatView(chat);
  }
  if (!state.selectedChatId && chats[0]) selectChat(chats[0].chatId, false);
}

function openChat(chat) {
  if (!chat || state.chats.has(chat.chatId)) return;
  createChatView(chat);
  if (state.focusNextOpenedChat) {
    state.focusNextOpenedChat = false;
    selectChat(chat.chatId, false);
    state.chats.get(chat.chatId).textarea.focus();
  } else if (!state.selectedChatId) {
    selectChat(chat.chatId, false);
  } else {
    notify();
  }
}

function createChatView({ chatId, card, connectedAt }) {
  state.chatNumber += 1;
  const n = state.chatNumber;
  const panel = cloneTemplate('tpl-chat');
  const tab = el('button', 'tab');
  const chat = {
    chatId, n, panel, tab,
    label: `Chat ${n}`,
    ended: false, unread: 0, risk: false, typingTimer: null, lastTypingSentAt: 0, refSeq: 0,
    pending: new Map(), // ref -> status element of the counsellor's own message
    textarea: panel.querySelector('.composer-text'),
  };
  state.chats.set(chatId, chat);

  panel.id = `chat-panel-${n}`;
  panel.hidden = true;
  panel.setAttribute('aria-labelledby', `chat-tab-${n}`);
  panel.querySelector('.chat-title').textContent = `${chat.label}: ${languageName(card.locale)}`;
  renderCard(panel.querySelector('.card'), card, connectedAt);
  wireComposer(chat, n);
  wireEndControls(chat, n);
  panel.querySelector('.close').addEventListener('click', () => closeChat(chatId));

  Object.assign(tab, { type: 'button', id: `chat-tab-${n}`, tabIndex: -1 });
  tab.setAttribute('role', 'tab');
  tab.setAttribute('aria-controls', panel.id);
  tab.addEventListener('click', () => selectChat(chatId, false));
  renderTabLabel(chat);

  $('chat-tabs').append(tab);
  $('chat-panels').append(panel);
  $('chats-empty').hidden = true;
  setChatControls(chat);
  return chat;
}

function renderCard(dl, card, connectedAt) {
  const modules = card.modulesCompleted ?? [];
  const rows = [
    ['Language', languageName(card.locale)],
    ['Channel', String(card.channel)],
    ['Why they asked', reasonWords(card.reason)],
    ['Modules completed', modules.length ? modules.map((m) => String(m.title)).join(', ') : 'none'],
    ['Safety plan', card.safetyPlan ? 'yes' : 'no'],
    ['Waited before connecting', formatDuration((connectedAt ?? serverNow()) - card.queuedAt)],
  ];
  for (const [term, value] of rows) dl.append(el('dt', '', term), el('dd', '', value));
}

function renderTabLabel(chat) {
  const parts = [chat.label];
  if (chat.risk) parts.push('risk flag');
  if (chat.unread) parts.push(`${chat.unread} new`);
  if (chat.ended) parts.push('ended');
  chat.tab.textContent = parts.join(' · ');
  chat.tab.classList.toggle('has-risk', chat.risk);
  chat.tab.classList.toggle('is-ended', chat.ended);
}

function selectChat(chatId, moveFocus) {
  const chosen = state.chats.get(chatId);
  if (!chosen) return;
  state.selectedChatId = chatId;
  for (const chat of state.chats.values()) {
    const selected = chat === chosen;
    chat.tab.setAttribute('aria-selected', String(selected));
    chat.tab.tabIndex = selected ? 0 : -1;
    chat.panel.hidden = !selected;
  }
  chosen.unread = 0;
  renderTabLabel(chosen);
  if (moveFocus) chosen.tab.focus();
}

// Arrow keys, Home and End move between tabs, as the ARIA tabs pattern expects.
function handleTabKeys(event) {
  const ids = [...state.chats.keys()];
  const index = ids.indexOf(state.selectedChatId);
  if (index < 0) return;
  const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: ids.length - 1 };
  if (!(event.key in moves)) return;
  event.preventDefault();
  const next = (moves[event.key] + ids.length) % ids.length;
  selectChat(ids[next], true);
}

function closeChat(chatId) {
  const ids = [...state.chats.keys()];
  const index = ids.indexOf(chatId);
  removeChat(chatId);
  const remaining = [...state.chats.keys()];
  if (remaining.length) {
    selectChat(remaining[Math.min(index, remaining.length - 1)], true);
  } else {
    $('chats-heading').focus();
  }
}

// Removing the panel is what deletes the messages: they were never anywhere else.
function removeChat(chatId) {
  const chat = state.chats.get(chatId);
  if (!chat) return;
  clearTimeout(chat.typingTimer);
  chat.tab.remove();
  chat.panel.remove();
  state.chats.delete(chatId);
  if (state.selectedChatId === chatId) state.selectedChatId = null;
  $('chats-empty').hidden = state.chats.size > 0;
}

// ---------- chats: messages, typing, risk, ending ----------

function isChatInView(chat) {
  return document.hasFocus() && state.selectedChatId === chat.chatId;
}

const AUTHORS = { person: 'Person', you: 'You', system: 'Note' };

function appendMessage(chat, kind, text) {
  const item = el('li', `message from-${kind}`);
  item.append(el('span', 'author', AUTHORS[kind]), el('p', 'text', String(text)));
  const list = chat.panel.querySelector('.messages');
  list.append(item);
  list.scrollTop = list.scrollHeight;
  return item;
}

function receiveMessage(chatId, text) {
  const chat = state.chats.get(chatId);
  if (!chat) return;
  hideTyping(chat);
  appendMessage(chat, 'person', text);
  if (!isChatInView(chat)) {
    if (state.selectedChatId !== chatId) chat.unread += 1;
    renderTabLabel(chat);
    notify();
  }
}

function sendMessage(chat) {
  const text = chat.textarea.value;
  if (!text.trim() || chat.ended) return;
  chat.refSeq += 1;
  const ref = `${chat.n}-${chat.refSeq}-${Date.now().toString(36)}`;
  if (!send({ type: 'message', chatId: chat.chatId, text, ref })) return;
  const item = appendMessage(chat, 'you', text);
  const status = el('span', 'delivery', 'sent');
  item.append(status);
  chat.pending.set(ref, status);
  chat.textarea.value = '';
  chat.lastTypingSentAt = 0;
}

function markDelivered(chatId, ref) {
  const chat = state.chats.get(chatId);
  const status = chat?.pending.get(ref);
  if (!status) return;
  status.textContent = 'delivered';
  status.classList.add('is-delivered');
  chat.pending.delete(ref);
}

// Typing frames are throttled: the person only needs to know someone is writing.
function sendTyping(chat) {
  const now = Date.now();
  if (chat.ended || now - chat.lastTypingSentAt < TYPING_SEND_EVERY_MS) return;
  chat.lastTypingSentAt = now;
  if (isSocketOpen()) state.socket.send(JSON.stringify({ type: 'typing', chatId: chat.chatId }));
}

function wireComposer(chat, n) {
  const form = chat.panel.querySelector('.composer');
  chat.textarea.id = `composer-${n}`;
  chat.panel.querySelector('.composer-label').htmlFor = chat.textarea.id;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    sendMessage(chat);
  });
  chat.textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendMessage(chat);
    }
  });
  chat.textarea.addEventListener('input', () => sendTyping(chat));
}

function wireEndControls(chat, n) {
  const select = chat.panel.querySelector('.suggest');
  select.id = `suggest-${n}`;
  chat.panel.querySelector('.suggest-label').htmlFor = select.id;
  for (const module of state.modules) select.append(new Option(String(module.title), String(module.id)));
  chat.panel.querySelector('.end').addEventListener('click', () => {
    // Ending by accident could cut off someone at risk, so ask once.
    if (!window.confirm('End this chat? The person goes back to the bot.')) return;
    const frame = { type: 'end', chatId: chat.chatId };
    if (select.value) frame.suggestModule = select.value;
    send(frame);
  });
}

function setChatControls(chat) {
  const disabled = chat.ended || !isSocketOpen();
  for (const control of chat.panel.querySelectorAll('.composer-text, .send, .suggest, .end')) {
    control.disabled = disabled;
  }
}

function showTyping(chatId) {
  const chat = state.chats.get(chatId);
  if (!chat || chat.ended) return;
  chat.panel.querySelector('.typing').hidden = false;
  clearTimeout(chat.typingTimer);
  chat.typingTimer = setTimeout(() => hideTyping(chat), TYPING_SHOW_MS);
}

function hideTyping(chat) {
  clearTimeout(chat.typingTimer);
  chat.panel.querySelector('.typing').hidden = true;
}

// A new alert element is inserted each time, because screen readers announce role="alert" on insertion.
function showRisk(chatId, category, level) {
  const chat = state.chats.get(chatId);
  if (!chat) return;
  const banner = el('div', 'risk-banner');
  banner.setAttribute('role', 'alert');
  banner.append(el('strong', '', 'Risk flag: '));
  banner.append(document.createTextNode(
    `the person's last message was flagged (${reasonWords({ category, level })}). Follow the risk procedure.`,
  ));
  chat.panel.querySelector('.risk-slot').replaceChildren(banner);
  chat.risk = true;
  renderTabLabel(chat);
  if (!isChatInView(chat)) notify();
}

function endChat(chatId, by) {
  const chat = state.chats.get(chatId);
  if (!chat || chat.ended) return;
  chat.ended = true;
  hideTyping(chat);
  const words = ENDED_BY_WORDS[by] ?? 'Chat ended.';
  chat.panel.querySelector('.ended-note').textContent = words;
  chat.panel.querySelector('.ended').hidden = false;
  appendMessage(chat, 'system', words);
  setChatControls(chat);
  renderTabLabel(chat);
}

// ---------- supervisor panel ----------

function renderPresence(frame) {
  const counsellors = asArray(frame.counsellors);
  $('team-summary').textContent =
    `${counsellors.length} online · ${frame.queueLength ?? 0} waiting · ${frame.liveChats ?? 0} live chats`;
  $('team-rows').replaceChildren(...counsellors.map((person) => {
    const row = el('tr');
    row.append(el('td', '', String(person.name)), el('td', '', String(person.role)),
      el('td', '', person.available ? 'yes' : 'no'), el('td', '', String(person.chats ?? 0)));
    return row;
  }));
}

// ---------- start-up ----------

function wirePage() {
  $('signin-form').addEventListener('submit', submitSignIn);
  $('sign-out').addEventListener('click', signOut);
  $('available').addEventListener('change', changeAvailability);
  $('chat-tabs').addEventListener('keydown', handleTabKeys);
  window.addEventListener('focus', () => {
    state.unseen = 0;
    updateTitle();
    const chat = state.chats.get(state.selectedChatId);
    if (chat) {
      chat.unread = 0;
      renderTabLabel(chat);
    }
  });
  document.addEventListener('pointerdown', unlockAudio, { once: true });
  document.addEventListener('keydown', unlockAudio, { once: true });
  setInterval(tickWaitingTimes, TICK_MS);
}

async function init() {
  wirePage();
  const session = await checkSession();
  if (session) {
    startConsole(session);
  } else {
    showSignIn();
    if (session === undefined) $('signin-error').textContent = 'Cannot reach the server right now. You can still try to sign in.';
  }
}

init();
