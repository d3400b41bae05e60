/**
 * Browser side of the supervisor dashboard: asks /console/api/dashboard for a range of days and
 * draws the figures as plain SVG (no chart library, nothing loaded from elsewhere), each chart with
 * a title, a description and a table holding the same numbers. Counts the server hid are the
 * string "<5"; they are drawn hatched at the height of 4, the most they can be, and labelled "<5".
 * Every piece of server data goes into the page through textContent or an attribute, never markup.
 */
/* global document, window, location, history, fetch, URLSearchParams, setTimeout, clearTimeout */

const $ = (id) => document.getElementById(id);
const SVG_NS = 'http://www.w3.org/2000/svg';
const HIDDEN = '<5';
/** Where a hidden count is drawn: the most it can be. */
const HIDDEN_DRAWN_AS = 4;

const STEP_LABELS = {
  started: 'Conversations started',
  consented: 'Gave consent',
  moduleStarted: 'Module starts',
  moduleCompleted: 'Module completions',
  askedForPerson: 'Asked for a person',
  connected: 'Connected to a counsellor',
};
const CATEGORY_LABELS = {
  suicide: 'Thoughts of suicide',
  child_at_risk: 'A child may be at risk',
  human: 'Asked for a person',
  distress: 'In distress',
};
const BUCKET_LABELS = {
  lt1m: ['under 1', 'Under 1 minute'],
  '1to5m': ['1–5', '1 to 5 minutes'],
  '5to15m': ['5–15', '5 to 15 minutes'],
  '15to30m': ['15–30', '15 to 30 minutes'],
  '30to60m': ['30–60', '30 to 60 minutes'],
  ge60m: ['60+', '1 hour or more'],
};

const numberFormat = new Intl.NumberFormat('en-GB');
const dayFormat = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
const fullDateFormat = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });

let loading = 0; // the number of the newest request; an older answer arriving late is dropped
let shown = null; // the figures on screen, drawn again when the window changes width
let resizeTimer = null;

// ---------- small helpers ----------

const isHidden = (count) => count === HIDDEN;
const showCount = (count) => (isHidden(count) ? HIDDEN : numberFormat.format(count));
const spokenCount = (count) => (isHidden(count) ? 'fewer than 5' : numberFormat.format(count));
const drawnValue = (count) => (isHidden(count) ? HIDDEN_DRAWN_AS : Number(count) || 0);
const toDate = (iso) => new Date(`${iso}T00:00:00Z`);
const shortDate = (iso) => dayFormat.format(toDate(iso));
const longDate = (iso) => fullDateFormat.format(toDate(iso));
const categoryLabel = (category) => CATEGORY_LABELS[category] ?? String(category).replaceAll('_', ' ');
const bucketLabels = (bucket) => BUCKET_LABELS[bucket] ?? [String(bucket), String(bucket)];
const starsLabel = (stars) => `${stars} star${stars === 1 ? '' : 's'}`;
const periodName = (period) => (period.from === period.to ? shortDate(period.from) : `${shortDate(period.from)} to ${shortDate(period.to)}`);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function svgEl(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A chart's drawing width: its box's width, within bounds, so text stays the page's size. */
function widthOf(id, max) {
  return Math.max(280, Math.min(max, Math.floor($(id).clientWidth) || max));
}

/** The largest value a chart must fit, at least 1 so an empty chart still has a scale. */
function scaleMax(counts) {
  return Math.max(1, ...counts.map(drawnValue));
}

function isoDaysBefore(iso, days) {
  const date = toDate(iso);
  date.setUTCDate(date.getUTCDate() - days);
  return date.toISOString().slice(0, 10);
}

/** An <svg role="img"> named by its title and described by a sentence that carries every number. */
function chartFrame(id, width, height, title, description) {
  const svg = svgEl('svg', {
    viewBox: `0 0 ${width} ${height}`,
    // Drawn at its own size where there is room, so its text matches the page's; narrower screens shrink it.
    width,
    height,
    role: 'img',
    'aria-labelledby': `${id}-title ${id}-desc`,
    class: 'chart-svg',
    preserveAspectRatio: 'xMinYMin meet',
  });
  svg.append(svgEl('title', { id: `${id}-title` }, title), svgEl('desc', { id: `${id}-desc` }, description));
  return svg;
}

function bar(x, y, width, height, count, tooltip) {
  const rect = svgEl('rect', { x, y, width: Math.max(0, width), height: Math.max(0, height), class: isHidden(count) ? 'bar is-hidden' : 'bar', rx: 2 });
  rect.append(svgEl('title', {}, tooltip));
  return rect;
}

function fillTable(table, rows) {
  table.tBodies[0].replaceChildren(
    ...rows.map((cells) => {
      const tr = el('tr');
      cells.forEach((cell, i) => {
        const td = el(i === 0 ? 'th' : 'td', isHidden(cell) ? 'is-hidden' : '', typeof cell === 'number' ? numberFormat.format(cell) : cell);
        if (i === 0) td.setAttribute('scope', 'row');
        tr.append(td);
      });
      return tr;
    }),
  );
}

// ---------- charts ----------

/**
 * Horizontal bars: a label, a bar and its count (and an optional note) per row. Where the labels
 * do not fit beside the bars (a phone), each goes on its own line above its bar.
 */
function horizontalBars(id, title, rows, { width, labelWidth, valueWidth }) {
  const stacked = width < labelWidth + valueWidth + 160;
  const barHeight = 22;
  const labelSpace = stacked ? 20 : 0;
  const rowHeight = barHeight + labelSpace + 14;
  const left = stacked ? 0 : labelWidth;
  const plot = width - left - valueWidth;
  const max = scaleMax(rows.map((row) => row.count));
  const description = rows.map((row) => `${row.label}: ${spokenCount(row.count)}${row.note ? ` (${row.note})` : ''}.`).join(' ');
  const svg = chartFrame(id, width, rows.length * rowHeight + 4, title, description);
  rows.forEach((row, i) => {
    const top = i * rowHeight + 4;
    const y = top + labelSpace;
    const middle = y + barHeight / 2;
    svg.append(
      stacked
        ? svgEl('text', { x: 0, y: top + 13, class: 'label' }, row.label)
        : svgEl('text', { x: labelWidth - 12, y: middle, class: 'label', 'text-anchor': 'end', 'dominant-baseline': 'middle' }, row.label),
    );
    const length = (drawnValue(row.count) / max) * plot;
    svg.append(svgEl('rect', { x: left, y, width: plot, height: barHeight, class: 'track', rx: 2 }));
    svg.append(bar(left, y, length, barHeight, row.count, `${row.label}: ${showCount(row.count)}`));
    const value = svgEl('text', { x: left + length + 8, y: middle, class: isHidden(row.count) ? 'value is-hidden' : 'value', 'dominant-baseline': 'middle' });
    value.append(svgEl('tspan', {}, showCount(row.count)));
    if (row.note) value.append(svgEl('tspan', { class: 'note', dx: 6 }, row.note));
    svg.append(value);
  });
  return svg;
}

/** Columns with their label underneath: the waiting-time histogram. */
function columns(id, title, axisTitle, items, width, emptyNote) {
  const height = 240;
  const top = 22;
  const bottom = 52;
  const left = 12;
  const plot = height - top - bottom;
  const slot = (width - left * 2) / items.length;
  const max = scaleMax(items.map((item) => item.count));
  const description = items.map((item) => `${item.longLabel}: ${spokenCount(item.count)}.`).join(' ');
  const svg = chartFrame(id, width, height, title, description);
  svg.append(svgEl('line', { x1: left, x2: width - left, y1: top + plot, y2: top + plot, class: 'axis' }));
  items.forEach((item, i) => {
    const x = left + i * slot + slot * 0.15;
    const barWidth = slot * 0.7;
    const barHeight = (drawnValue(item.count) / max) * plot;
    svg.append(bar(x, top + plot - barHeight, barWidth, barHeight, item.count, `${item.longLabel}: ${showCount(item.count)}`));
    svg.append(svgEl('text', { x: x + barWidth / 2, y: top + plot - barHeight - 6, class: isHidden(item.count) ? 'value is-hidden' : 'value', 'text-anchor': 'middle' }, showCount(item.count)));
    svg.append(svgEl('text', { x: x + barWidth / 2, y: top + plot + 18, class: 'label', 'text-anchor': 'middle' }, item.label));
  });
  svg.append(svgEl('text', { x: width / 2, y: height - 8, class: 'axis-title', 'text-anchor': 'middle' }, axisTitle));
  if (items.every((item) => drawnValue(item.count) === 0)) {
    svg.append(svgEl('text', { x: width / 2, y: top + plot / 2, class: 'empty-note', 'text-anchor': 'middle' }, emptyNote));
  }
  return svg;
}

/**
 * One strip of columns per category on a shared scale, so categories compare at a glance. On a
 * narrow screen each category's name goes above its strip.
 */
function smallMultiples(id, title, escalations, width) {
  const { categories, periods } = escalations;
  if (categories.length === 0) {
    const svg = chartFrame(id, width, 60, title, 'No escalations in this period.');
    svg.append(svgEl('text', { x: width / 2, y: 34, class: 'empty-note', 'text-anchor': 'middle' }, 'No escalations in this period.'));
    return svg;
  }
  const stacked = width < 560;
  const labelWidth = stacked ? 0 : 180;
  const labelSpace = stacked ? 20 : 0;
  const stripHeight = 44;
  const gap = 14;
  const axisHeight = 24;
  const plot = width - labelWidth - 8;
  const max = scaleMax(periods.flatMap((period) => categories.map((category) => period.counts[category])));
  const slot = plot / periods.length;
  const barWidth = Math.max(1, slot * 0.72);
  const description = categories
    .map((category) => {
      const busy = periods.filter((period) => drawnValue(period.counts[category]) > 0);
      const list = busy.map((period) => `${periodName(period)}: ${spokenCount(period.counts[category])}`).join('; ');
      return `${categoryLabel(category)}: ${list || 'none'}.`;
    })
    .join(' ');
  const rowHeight = labelSpace + stripHeight + gap;
  const height = categories.length * rowHeight + axisHeight;
  const svg = chartFrame(id, width, height, title, description);
  categories.forEach((category, row) => {
    const top = row * rowHeight;
    const baseline = top + labelSpace + stripHeight;
    svg.append(
      stacked
        ? svgEl('text', { x: 0, y: top + 13, class: 'label' }, categoryLabel(category))
        : svgEl('text', { x: labelWidth - 12, y: baseline - stripHeight / 2, class: 'label', 'text-anchor': 'end', 'dominant-baseline': 'middle' }, categoryLabel(category)),
    );
    svg.append(svgEl('line', { x1: labelWidth, x2: width - 8, y1: baseline, y2: baseline, class: 'axis' }));
    periods.forEach((period, i) => {
      const count = period.counts[category];
      if (drawnValue(count) === 0) return;
      // A hidden count is at least a few pixels tall, so it never vanishes next to large ones.
      const barHeight = Math.max(isHidden(count) ? 6 : 2, (drawnValue(count) / max) * stripHeight);
      svg.append(bar(labelWidth + i * slot + (slot - barWidth) / 2, baseline - barHeight, barWidth, barHeight, count, `${categoryLabel(category)}, ${periodName(period)}: ${showCount(count)}`));
    });
  });
  const axisY = height - 6;
  svg.append(svgEl('text', { x: labelWidth, y: axisY, class: 'axis-title', 'text-anchor': 'start' }, shortDate(periods[0].from)));
  if (periods.length > 1) svg.append(svgEl('text', { x: width - 8, y: axisY, class: 'axis-title', 'text-anchor': 'end' }, shortDate(periods[periods.length - 1].from)));
  return svg;
}

// ---------- the four panels ----------

function renderFunnel(funnel) {
  const started = funnel.find((step) => step.step === 'started')?.count;
  // A share is shown only between two exact counts; from a hidden one it would give the number away.
  const share = (count, step) =>
    step !== 'started' && typeof count === 'number' && count > 0 && typeof started === 'number' && started > 0 ? `${Math.round((count / started) * 100)}%` : '';
  const rows = funnel.map(({ step, count }) => ({ label: STEP_LABELS[step] ?? step, count, note: share(count, step) }));
  $('funnel-chart').replaceChildren(horizontalBars('funnel', 'From first message to a counsellor', rows, { width: widthOf('funnel-chart', 880), labelWidth: 210, valueWidth: 130 }));
  fillTable($('funnel-table'), rows.map((row) => [row.label, row.count, row.note || '–']));
}

function renderEscalations(escalations) {
  const exact = escalations.periods.flatMap((period) => escalations.categories.map((category) => period.counts[category])).filter((count) => typeof count === 'number');
  const tallest = Math.max(0, ...exact);
  $('escalations-period').textContent = [
    escalations.period === 'day' ? 'Each column is one day.' : 'Each column is 7 days, counted from the first day of the period.',
    tallest > 0 ? `All rows share one scale; the tallest column is ${numberFormat.format(tallest)}.` : '',
  ].join(' ');
  $('escalations-chart').replaceChildren(smallMultiples('escalations', 'Escalations by category', escalations, widthOf('escalations-chart', 880)));
  const table = $('escalations-table');
  const head = el('tr');
  head.append(el('th', '', escalations.period === 'day' ? 'Day' : 'Week starting'));
  for (const category of escalations.categories) head.append(el('th', '', categoryLabel(category)));
  head.querySelectorAll('th').forEach((th) => th.setAttribute('scope', 'col'));
  table.tHead.replaceChildren(head);
  fillTable(
    table,
    escalations.categories.length === 0
      ? [['No escalations in this period.']]
      : escalations.periods.map((period) => [shortDate(period.from), ...escalations.categories.map((category) => period.counts[category])]),
  );
}

function renderWaiting(waiting) {
  const items = waiting.map(({ bucket, count }) => {
    const [label, longLabel] = bucketLabels(bucket);
    return { label, longLabel, count };
  });
  $('waiting-chart').replaceChildren(columns('waiting', 'How long people waited for a counsellor', 'minutes waited', items, widthOf('waiting-chart', 480), 'Nobody waited for a counsellor in this period.'));
  fillTable($('waiting-table'), items.map((item) => [item.longLabel, item.count]));
}

function renderRatings(ratings, average) {
  const rows = [...ratings].sort((a, b) => b.stars - a.stars).map(({ stars, count }) => ({ label: starsLabel(stars), count }));
  $('ratings-chart').replaceChildren(horizontalBars('ratings', 'How people rated their chat', rows, { width: widthOf('ratings-chart', 480), labelWidth: 80, valueWidth: 60 }));
  fillTable($('ratings-table'), rows.map((row) => [row.label, row.count]));
  const anyHidden = ratings.some(({ count }) => isHidden(count));
  $('ratings-average').textContent =
    typeof average === 'number'
      ? `Average ${average.toFixed(1)} out of 5.`
      : anyHidden
        ? 'The average is not shown while some counts are hidden.'
        : 'Nobody rated a chat in this period.';
}

function render(data) {
  shown = data;
  renderFunnel(data.funnel);
  renderEscalations(data.escalations);
  renderWaiting(data.waiting);
  renderRatings(data.ratings, data.averageRating);
  $('range-summary').textContent = `Showing ${longDate(data.from)} to ${longDate(data.to)} (${data.days} day${data.days === 1 ? '' : 's'}).`;
}

// ---------- loading ----------

function showStatus(text, link) {
  const status = $('status');
  status.replaceChildren(text);
  if (link) {
    status.append(' ');
    const anchor = el('a', '', link.text);
    anchor.href = link.href;
    status.append(anchor);
  }
}

function failureText(response, body) {
  if (response.status === 400) return `Those dates cannot be shown: ${body?.error?.detail ?? body?.error?.message ?? 'check them and try again.'}`;
  if (response.status === 403) return 'This dashboard is for supervisors; your account cannot open it.';
  return 'The figures could not be loaded. Try again in a moment.';
}

async function load(range) {
  const query = new URLSearchParams(range ?? {}).toString();
  const request = ++loading;
  $('dashboard').setAttribute('aria-busy', 'true');
  $('range-show').disabled = true;
  try {
    const response = await fetch(`/console/api/dashboard${query ? `?${query}` : ''}`, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    const body = await response.json().catch(() => null);
    if (request !== loading) return;
    if (response.status === 401) {
      showStatus('Your session has ended.', { href: '/console/', text: 'Sign in again in the console.' });
    } else if (!response.ok || !body) {
      showStatus(failureText(response, body));
    } else {
      showStatus('');
      $('range-from').value = body.from;
      $('range-to').value = body.to;
      const params = new URLSearchParams({ from: body.from, to: body.to }).toString();
      $('csv-link').href = `/console/api/dashboard.csv?${params}`;
      history.replaceState(null, '', `${location.pathname}?${params}`);
      render(body);
    }
  } catch {
    if (request === loading) showStatus('Cannot reach the server. Check the connection and try again.');
  } finally {
    if (request === loading) {
      $('dashboard').setAttribute('aria-busy', 'false');
      $('range-show').disabled = false;
    }
  }
}

function submitRange(event) {
  event.preventDefault();
  const from = $('range-from').value;
  const to = $('range-to').value;
  if (!from || !to) {
    showStatus('Choose both a start and an end date.');
    return;
  }
  void load({ from, to });
}

function choosePreset(event) {
  const days = Number(event.target.closest('button[data-days]')?.dataset.days);
  if (!days) return;
  // The counts are kept per UTC day, so "today" is the UTC date too.
  const to = new Date().toISOString().slice(0, 10);
  void load({ from: isoDaysBefore(to, days - 1), to });
}

function start() {
  $('range-form').addEventListener('submit', submitRange);
  document.querySelector('.presets').addEventListener('click', choosePreset);
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      if (shown) render(shown);
    }, 150);
  });
  const params = new URLSearchParams(location.search);
  const from = params.get('from');
  const to = params.get('to');
  // Without a range in the address, the server picks its default (the last 30 days).
  void load(from && to ? { from, to } : undefined);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
