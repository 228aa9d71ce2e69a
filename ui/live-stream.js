// The Live Stream: batches as they arrive, newest first, over Server-Sent Events from /v1/live/stream.
// fetch() reads the stream (EventSource cannot send the Authorization header the API keys need).

import { $, api, authHeader, el, fmt, mpidLink } from './dom.js';
import { forwardingPills, forwardingTable } from './activity-view.js';

/** Rows kept on the page; the server keeps its own bounded tail. */
const MAX_ROWS = 200;
/** Events held while paused; beyond this the oldest held ones are dropped (the page says how many). */
const MAX_HELD = 500;

let controller = null;
let paused = false;
/** Entries (latest version by id) that arrived while paused. */
let held = new Map();
let droppedWhilePaused = 0;
const entries = new Map();
let selected = null;

function status(textValue) {
  $('live-status').textContent = textValue;
}

function row(entry) {
  const tr = el('tr', { 'data-id': entry.id, class: entry.id === selected ? 'selected' : '', onclick: (e) => { if (e.target.tagName !== 'A') select(entry.id); } },
    el('td', {}, fmt(entry.received_ms)),
    el('td', {}, entry.source),
    el('td', {}, entry.environment),
    el('td', {}, mpidLink(entry.mpid)),
    el('td', {}, String(entry.event_count)),
    el('td', { class: 'names' }, entry.event_names.join(', ') || '—'),
    el('td', { class: 'forwarding' }, ...forwardingPills(entry.forwarding)),
  );
  return tr;
}

function select(id) {
  selected = id;
  const entry = entries.get(id);
  for (const tr of $('live-rows').children) tr.classList.toggle('selected', tr.dataset.id === id);
  if (!entry) return;
  $('live-detail').replaceChildren(
    el('h2', {}, 'Batch ', el('code', {}, entry.batch_id ?? entry.id)),
    el('p', {}, 'MPID ', mpidLink(entry.mpid), ` · ${entry.topic} · received ${fmt(entry.received_ms)} · processed ${fmt(entry.processed_ms)}`),
    el('h3', {}, 'Integrations'),
    entry.forwarding ? forwardingTable(entry.forwarding) : el('p', { class: 'muted' }, 'not processed yet'),
    el('h3', {}, 'Batch JSON'),
    el('pre', { class: 'batch-json' }, JSON.stringify(entry.batch, null, 2)),
  );
  $('live-detail').hidden = false;
}

/** Adds or updates a row, newest first by arrival; updates (processed) replace the row in place. */
function show(entry) {
  const known = entries.has(entry.id);
  entries.set(entry.id, entry);
  const rows = $('live-rows');
  const existing = rows.querySelector(`tr[data-id="${CSS.escape(entry.id)}"]`);
  if (known && existing) existing.replaceWith(row(entry));
  else {
    const next = [...rows.children].find((tr) => (entries.get(tr.dataset.id)?.received_ms ?? 0) < entry.received_ms);
    rows.insertBefore(row(entry), next ?? null);
    while (rows.children.length > MAX_ROWS) {
      const last = rows.lastElementChild;
      entries.delete(last.dataset.id);
      last.remove();
    }
  }
  if (selected === entry.id) select(entry.id);
  $('live-empty').hidden = rows.children.length > 0;
}

function receive(kind, entry) {
  if (paused) {
    held.delete(entry.id);
    held.set(entry.id, entry);
    if (held.size > MAX_HELD) {
      held.delete(held.keys().next().value);
      droppedWhilePaused++;
    }
    // Updates of rows already shown are held too, but only batches not on the page yet count as new.
    const fresh = [...held.keys()].filter((id) => !entries.has(id)).length;
    $('live-held').textContent = fresh || droppedWhilePaused ? `${fresh} new while paused${droppedWhilePaused ? ` (${droppedWhilePaused} older ones dropped)` : ''}` : '';
    return;
  }
  show(entry);
}

function query() {
  const q = new URLSearchParams();
  for (const [id, name] of [['live-environment', 'environment'], ['live-source', 'source'], ['live-integration', 'integration'], ['live-event-type', 'event_type'], ['live-mpid', 'mpid']]) {
    const v = $(id).value.trim();
    if (v) q.set(name, v);
  }
  return q;
}

async function connect() {
  controller?.abort();
  controller = new AbortController();
  const mine = controller;
  entries.clear();
  $('live-rows').replaceChildren();
  $('live-empty').hidden = false;
  $('live-error').textContent = '';
  status('connecting…');
  try {
    const res = await fetch(`/v1/live/stream?${query()}`, { headers: authHeader(), signal: mine.signal });
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      throw new Error(body.message ?? `HTTP ${res.status}`);
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = 'message';
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) event = line.slice(7);
          else if (line.startsWith('data: ')) data += line.slice(6);
        }
        if (!data) continue;
        const payload = JSON.parse(data);
        if (event === 'batch' || event === 'update') receive(event, payload);
        else if (event === 'ready') status(`live · workspace ${payload.workspace_id}`);
        else if (event === 'stats') status(`live · ${payload.decoded} decoded · ${payload.skipped} not shown (over the display rate)${payload.dropped ? ` · ${payload.dropped} dropped (slow connection)` : ''}`);
        else if (event === 'failure') throw new Error(payload.message);
      }
    }
    if (mine === controller) status('disconnected');
  } catch (error) {
    if (mine.signal.aborted) return;
    status('disconnected');
    $('live-error').textContent = error.message;
  }
}

function setPaused(value) {
  paused = value;
  $('live-pause').textContent = paused ? 'Resume' : 'Pause';
  $('live-pause').setAttribute('aria-pressed', String(paused));
  if (!paused) {
    for (const entry of held.values()) show(entry);
    held = new Map();
    droppedWhilePaused = 0;
    $('live-held').textContent = '';
  }
}

let initialised = false;

export async function openLiveStream() {
  if (!initialised) {
    initialised = true;
    const options = await api('/v1/live/options');
    $('live-source').append(...options.sources.map((s) => el('option', { value: s }, s)));
    $('live-integration').append(...options.integrations.map((s) => el('option', { value: s }, s)));
    $('live-filters').addEventListener('submit', (e) => {
      e.preventDefault();
      void connect();
    });
    $('live-pause').addEventListener('click', () => setPaused(!paused));
  }
  if (!controller || controller.signal.aborted) void connect();
}

/** Leaving the page closes the stream: the server's tail stops when nobody watches. */
export function closeLiveStream() {
  controller?.abort();
  controller = null;
}

