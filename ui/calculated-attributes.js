// The Calculated attributes page: definitions, versions, and how the current values are spread over the
// workspace's profiles. Reads src/api/calculated-attribute-routes.ts.

import { $, api, el, table } from './dom.js';
import { barList } from './charts.js';

function rangeText(r) {
  if (r.kind === 'within_days') return `last ${r.days} day(s)`;
  if (r.kind === 'since') return `since ${new Date(r.sinceMs).toISOString().slice(0, 10)}`;
  return 'lifetime';
}

function card(c) {
  return el('article', { class: 'calculated card', 'data-attribute': c.name },
    el('h2', {}, c.name),
    el('p', { class: 'muted' }, `${c.calculation}${c.attribute ? ` of ${c.attribute}` : ''} · ${rangeText(c.range)} · version ${c.version}`),
    el('details', {}, el('summary', {}, 'Event condition'), el('pre', {}, JSON.stringify(c.event, null, 2))),
    el('p', {}, `${c.users} profile(s) with this attribute, ${c.no_value} without a value yet`),
    el('h3', {}, c.distribution.kind === 'histogram' ? 'Distribution of current values' : 'Most frequent current values'),
    c.distribution.buckets.length
      ? barList({ title: `${c.name}: distribution of current values`, buckets: c.distribution.buckets })
      : el('p', { class: 'muted' }, 'no values yet'),
    el('h3', {}, 'Definition versions in use'),
    table(['version', 'profiles', ''], c.versions.map((v) => [String(v.version), String(v.users), v.current ? 'current' : 'older: recomputed when the user is next seen'])),
  );
}

export async function openCalculatedAttributes() {
  try {
    const data = await api('/v1/workspace/calculated-attributes');
    $('calculated-note').textContent = `Workspace ${data.workspace_id} · ${data.profiles_scanned} profile(s) read on ${data.instances.asked} instance(s)${data.instances.unreachable.length ? ` · not answering: ${data.instances.unreachable.join(', ')}` : ''}`;
    $('calculated-list').replaceChildren(...(data.calculated_attributes.length ? data.calculated_attributes.map(card) : [el('p', { class: 'muted card' }, 'No calculated attributes defined for this workspace (topology/calculated-attributes.yaml).')]));
    $('calculated-error').textContent = '';
  } catch (error) {
    $('calculated-error').textContent = error.message;
  }
}
