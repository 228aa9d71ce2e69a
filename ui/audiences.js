// The Audiences page: every audience of the workspace with its definition, current size, the last 24 hours
// of joins and leaves, and its members a page at a time. Reads src/api/audience-routes.ts.

import { $, api, el, fmt, mpidLink, table } from './dom.js';
import { columnChart } from './charts.js';

const PAGE = 20;
let timer = null;
let openMembers = null;

function card(a) {
  return el('article', { class: 'audience card', 'data-audience': a.id },
    el('div', { class: 'audience-head' },
      el('div', {}, el('h2', {}, a.name), el('p', { class: 'muted' }, `${a.id} · definition version ${a.version}`)),
      el('div', { class: 'stat' }, el('span', { class: 'stat-value', 'data-size': a.size }, String(a.size)), el('span', { class: 'muted' }, 'members')),
      el('div', { class: 'stat' }, el('span', { class: 'stat-value joins' }, `+${a.joins_24h}`), el('span', { class: 'muted' }, 'joined (24 h)')),
      el('div', { class: 'stat' }, el('span', { class: 'stat-value leaves' }, `−${a.leaves_24h}`), el('span', { class: 'muted' }, 'left (24 h)')),
    ),
    columnChart({
      title: `${a.name}: joins and leaves per hour, last 24 hours`,
      buckets: a.hourly.map((h) => ({ label: `${new Date(h.hour_ms).toISOString().slice(11, 13)}h`, values: [h.joins, h.leaves] })),
      series: [{ name: 'joins', color: '#12a150' }, { name: 'leaves', color: '#d9534f' }],
      height: 160,
      labelEvery: 3,
    }),
    el('details', {}, el('summary', {}, 'Definition'), el('pre', {}, JSON.stringify(a.criteria, null, 2))),
    el('button', { type: 'button', class: 'secondary', onclick: () => void showMembers(a.id, 0) }, 'Members'),
    el('div', { class: 'members', id: `members-${a.id}` }),
  );
}

async function showMembers(id, offset) {
  openMembers = { id, offset };
  const page = await api(`/v1/workspace/audiences/${encodeURIComponent(id)}/members?${new URLSearchParams({ offset: String(offset), limit: String(PAGE) })}`);
  const box = $(`members-${id}`);
  if (!box) return;
  box.replaceChildren(
    el('h3', {}, `Members ${page.total === 0 ? '' : `${offset + 1}–${offset + page.members.length} of ${page.total}`}`),
    table(['MPID', 'joined'], page.members.map((m) => [mpidLink(m.mpid), fmt(m.added_ms)])),
    el('div', { class: 'pager' },
      el('button', { type: 'button', class: 'secondary', disabled: offset === 0, onclick: () => void showMembers(id, Math.max(0, offset - PAGE)) }, 'Previous'),
      el('button', { type: 'button', class: 'secondary', disabled: page.next_offset === null, onclick: () => void showMembers(id, page.next_offset) }, 'Next'),
    ),
  );
}

async function load() {
  try {
    const data = await api('/v1/workspace/audiences');
    $('audiences-note').textContent = `Workspace ${data.workspace_id} · as of ${fmt(data.as_of_ms)}${data.complete ? '' : ' · still reading the membership topic: sizes are growing'}`;
    $('audiences-list').replaceChildren(...(data.audiences.length ? data.audiences.map(card) : [el('p', { class: 'muted card' }, 'No audiences defined for this workspace (topology/audiences.yaml).')]));
    if (openMembers) await showMembers(openMembers.id, openMembers.offset);
    $('audiences-error').textContent = '';
  } catch (error) {
    $('audiences-error').textContent = error.message;
  }
}

/** Refreshed every 5 s while the page is shown, so sizes and charts follow the pipeline. */
export function openAudiences() {
  void load();
  clearInterval(timer);
  timer = setInterval(() => void load(), 5000);
}

export function closeAudiences() {
  clearInterval(timer);
  timer = null;
}
