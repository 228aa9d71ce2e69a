// Small DOM and HTTP helpers shared by every page of the UI (plain browser modules, no build step).

export const $ = (id) => document.getElementById(id);
export const fmt = (ms) => (ms === null || ms === undefined ? '—' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC'));
export const text = (value) => (Array.isArray(value) ? value.join(', ') : value === null || value === undefined ? '—' : String(value));

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(text(c)));
  return node;
}

export function table(headers, rows) {
  if (rows.length === 0) return el('p', { class: 'muted' }, 'none');
  return el('table', {}, el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', {}, h)))), el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', {}, c))))));
}

/** A link that opens a user in the User Activity View. */
export function mpidLink(mpid) {
  return el('a', { href: `#/activity?mpid=${encodeURIComponent(mpid)}`, class: 'mpid' }, mpid);
}

export const session = {
  credentials: sessionStorage.getItem('ps-credentials'),
  workspaces: [],
};

export function authHeader() {
  return { authorization: `Basic ${session.credentials}` };
}

export async function api(path) {
  const res = await fetch(path, { headers: authHeader() });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error(body.message ?? `HTTP ${res.status}`), { status: res.status, code: body.error });
  return body;
}
