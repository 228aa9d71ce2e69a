// The User Activity View: plain browser JavaScript, no build step. It reads the JSON routes of
// src/api/activity-view-routes.ts with the API key the user logs in with (kept in sessionStorage).

const $ = (id) => document.getElementById(id);
const fmt = (ms) => (ms === null || ms === undefined ? '—' : new Date(ms).toISOString().replace('T', ' ').replace('.000Z', ' UTC'));
const text = (value) => (Array.isArray(value) ? value.join(', ') : value === null || value === undefined ? '—' : String(value));

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(text(c)));
  return node;
}

function table(headers, rows) {
  if (rows.length === 0) return el('p', { class: 'muted' }, 'none');
  return el('table', {}, el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', {}, h)))), el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', {}, c))))));
}

let credentials = sessionStorage.getItem('ps-credentials');
let currentMpid = null;
let nextBefore = null;

async function api(path) {
  const res = await fetch(path, { headers: { authorization: `Basic ${credentials}` } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error(body.message ?? `HTTP ${res.status}`), { status: res.status });
  return body;
}

async function showSession() {
  const session = await api('/v1/activity/session');
  $('session').textContent = `${session.key} · workspaces ${session.workspaces.join(', ')}`;
  $('login').hidden = true;
  $('app').hidden = false;
  $('logout').hidden = false;
}

$('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  credentials = btoa(`${$('api-key').value}:${$('api-secret').value}`);
  try {
    await showSession();
    sessionStorage.setItem('ps-credentials', credentials);
    $('login-error').textContent = '';
  } catch (error) {
    $('login-error').textContent = error.status === 401 ? 'Unknown API key or wrong secret.' : error.message;
  }
});

$('logout').addEventListener('click', () => {
  sessionStorage.removeItem('ps-credentials');
  location.reload();
});

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

function renderEntry(entry) {
  const body = el('div', { class: 'batch-body' },
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
      el('summary', {}, el('strong', { title: 'event time' }, fmt(entry.batch_ms)), el('span', { class: 'muted', title: 'processing time' }, `processed ${fmt(entry.processed_ms)}`), ...(entry.late ? [el('span', { class: 'pill', title: 'arrived after newer events of this user' }, 'late')] : []), el('span', { class: 'pill' }, entry.source), el('span', {}, `workspace ${entry.workspace_id}`), el('span', {}, `${entry.events.length} event(s)`), el('span', { class: 'muted' }, entry.batch_id ?? '')),
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

$('more').addEventListener('click', () => void loadTimeline(false));

$('search').addEventListener('submit', async (e) => {
  e.preventDefault();
  const type = $('search-type').value;
  const value = $('search-value').value.trim();
  const q = type === 'mpid' ? new URLSearchParams({ mpid: value }) : new URLSearchParams({ identity_type: type, identity_value: value });
  $('search-error').textContent = '';
  $('profile').hidden = true;
  $('timeline-card').hidden = true;
  try {
    const profile = await api(`/v1/activity/profile?${q}`);
    currentMpid = profile.mpid;
    renderProfile(profile);
    await loadTimeline(true);
  } catch (error) {
    $('search-error').textContent = error.status === 404 ? 'No user found.' : error.message;
  }
});

if (credentials) showSession().catch(() => sessionStorage.removeItem('ps-credentials'));
