// The User Activity View: find a user, show the profile, events per day, and the timeline from history
// with where each batch went. Reads src/api/activity-view-routes.ts.

import { $, api, el, fmt, table } from './dom.js';
import { columnChart } from './charts.js';

let currentMpid = null;
let nextBefore = null;

function renderProfile(p) {
  const section = $('profile');
  section.replaceChildren(
    el('h2', {}, `Profile · MPID ${p.mpid}`),
    el('p', { class: 'muted' }, `First seen ${fmt(p.created_timestamp_ms)} · last seen ${fmt(p.last_seen_timestamp_ms)} · ${p.is_opted_out ? 'opted out' : 'not opted out'}`),
    el('h3', {}, 'Identities'),
    table(['type', 'value', 'set', 'source'], p.user_identities.map((i) => [i.type, i.value, fmt(i.updated_ms), i.source])),
    el('h3', {}, 'Audience memberships'),
    table(['audience', 'added', 'expires'], p.audience_memberships.map((m) => [m.audience_name ?? m.audience_id, fmt(m.added_ms), fmt(m.expiration_ms)])),
  );
  for (const w of p.workspaces) {
    section.append(
      el('h3', {}, `Workspace ${w.workspace_id}`),
      el('div', { class: 'grid' },
        el('div', {}, el('h3', {}, 'User attributes'), table(['name', 'value', 'last set', 'source'], w.user_attributes.map((a) => [a.name, a.value, fmt(a.updated_ms), a.source]))),
        el('div', {}, el('h3', {}, 'Calculated attributes'), table(['name', 'value', 'updated', 'definition version'], w.calculated_attributes.map((a) => [a.name, a.value, fmt(a.updated_ms), a.definition_version]))),
        el('div', {}, el('h3', {}, 'Consent'), table(['purpose', 'consented', 'at'], [
          ...w.consent.gdpr.map((c) => [`GDPR ${c.purpose}`, c.consented ? 'yes' : 'no', fmt(c.timestamp_ms)]),
          ...(w.consent.ccpa_data_sale_opt_out ? [['CCPA data sale opt-out', w.consent.ccpa_data_sale_opt_out.consented ? 'yes' : 'no', fmt(w.consent.ccpa_data_sale_opt_out.timestamp_unixtime_ms)]] : []),
        ])),
        el('div', {}, el('h3', {}, 'Devices'), table(['device', 'platform', 'first seen', 'last seen'], w.devices.map((d) => [d.model ?? d.device_application_stamp, d.platform, fmt(d.first_seen_ms), fmt(d.last_seen_ms)]))),
      ),
    );
  }
  section.hidden = false;
}

/** Where the batch went: "→ name" per integration that got it, "✕ name (reason)" for one that did not. */
function forwardingPills(forwarding) {
  if (!forwarding) return [el('span', { class: 'pill pending' }, 'processing…')];
  return forwarding.map((d) => d.forwarded
    ? el('span', { class: 'pill sent', title: `${d.events_forwarded} of ${d.events_total} event(s)` }, `→ ${d.integration}`)
    : el('span', { class: 'pill not-sent', title: d.detail }, `✕ ${d.integration} (${d.reason})`));
}

export function forwardingTable(forwarding) {
  return table(['integration', 'forwarded', 'why / what'], forwarding.map((d) => [d.integration, d.forwarded ? 'yes' : 'no', d.forwarded ? `${d.events_forwarded} of ${d.events_total} event(s)` : `${d.reason}: ${d.detail}`]));
}

export { forwardingPills };

function renderEntry(entry) {
  const body = el('div', { class: 'batch-body' },
    el('h3', {}, 'Integrations'),
    forwardingTable(entry.forwarding),
    el('h3', {}, 'Events'),
    table(['type', 'name', 'time'], entry.events.map((e) => [e.event_type, e.name, fmt(e.time_ms)])),
    el('h3', {}, 'User attributes sent'),
    table(['name', 'value'], Object.entries(entry.user_attributes_sent).map(([k, v]) => [k, v])),
    el('h3', {}, 'Profile attributes after this batch'),
    table(['name', 'value'], Object.entries(entry.profile_attributes_after).map(([k, v]) => [k, v])),
    el('details', {}, el('summary', {}, 'Raw batch'), el('pre', {}, JSON.stringify(entry.batch, null, 2))),
  );
  return el('li', { 'data-key': entry.key },
    el('details', {},
      // Event time first (when it happened), processing time beside it: a late batch reads as old, marked late.
      el('summary', {}, el('strong', { title: 'event time' }, fmt(entry.batch_ms)), el('span', { class: 'muted', title: 'processing time' }, `processed ${fmt(entry.processed_ms)}`), ...(entry.late ? [el('span', { class: 'pill', title: 'arrived after newer events of this user' }, 'late')] : []), el('span', { class: 'pill' }, entry.source), el('span', {}, `workspace ${entry.workspace_id}`), el('span', {}, `${entry.events.length} event(s)`), el('span', { class: 'muted' }, entry.batch_id ?? ''), el('span', { class: 'forwarding' }, ...forwardingPills(entry.forwarding))),
      body,
    ),
  );
}

async function loadTimeline(reset) {
  if (reset) {
    $('timeline').replaceChildren();
    nextBefore = null;
  }
  const q = new URLSearchParams({ mpid: currentMpid, limit: '10' });
  if (nextBefore) q.set('before', nextBefore);
  const page = await api(`/v1/activity/timeline?${q}`);
  for (const entry of page.entries) $('timeline').append(renderEntry(entry));
  if (page.entries.length === 0 && reset) $('timeline').append(el('li', { class: 'muted' }, 'No batches in history.'));
  nextBefore = page.next_before;
  $('more').hidden = nextBefore === null;
  $('timeline-card').hidden = false;
}

async function loadEventsPerDay() {
  const days = Number($('per-day-range').value);
  const data = await api(`/v1/activity/events-per-day?${new URLSearchParams({ mpid: currentMpid, days: String(days) })}`);
  const total = data.days.reduce((s, d) => s + d.events, 0);
  $('per-day-total').textContent = `${total} event(s) in ${data.days.reduce((s, d) => s + d.batches, 0)} batch(es) over the last ${days} days`;
  $('per-day-chart').replaceChildren(columnChart({
    title: `Events per day, last ${days} days`,
    buckets: data.days.map((d) => ({ label: new Date(d.day_ms).toISOString().slice(5, 10), values: [d.events] })),
    series: [{ name: 'events', color: '#2f6fdb' }],
    labelEvery: Math.ceil(days / 10),
  }));
  $('per-day-card').hidden = false;
}

/** Shows the user found by `query` (URLSearchParams of mpid, or identity_type and identity_value). */
export async function showUser(query) {
  $('search-error').textContent = '';
  $('profile').hidden = true;
  $('timeline-card').hidden = true;
  $('per-day-card').hidden = true;
  try {
    const profile = await api(`/v1/activity/profile?${query}`);
    currentMpid = profile.mpid;
    renderProfile(profile);
    await Promise.all([loadTimeline(true), loadEventsPerDay()]);
  } catch (error) {
    $('search-error').textContent = error.status === 404 ? 'No user found.' : error.message;
  }
}

export function initActivityView() {
  $('more').addEventListener('click', () => void loadTimeline(false));
  $('per-day-range').addEventListener('change', () => void loadEventsPerDay());
  $('search').addEventListener('submit', (e) => {
    e.preventDefault();
    const type = $('search-type').value;
    const value = $('search-value').value.trim();
    const q = type === 'mpid' ? new URLSearchParams({ mpid: value }) : new URLSearchParams({ identity_type: type, identity_value: value });
    void showUser(q);
  });
}

/** Opened from another page (`#/activity?mpid=…`): fills the search form and shows the user. */
export function openMpid(mpid) {
  $('search-type').value = 'mpid';
  $('search-value').value = mpid;
  if (mpid !== currentMpid || $('profile').hidden) void showUser(new URLSearchParams({ mpid }));
}
